# Structured output through SQL on the default model: llm_extract_json,
# llm_classify, llm_summarize.
#
#  - The corpus (test/structured/corpus.json: realistic schemas that
#    together use every supported keyword and format, which
#    keyword_census.py checks first):
#    llm_extract_json gives a document for every entry and 100% of them
#    validate under Python's jsonschema with format checking on
#    (test/structured/validate.py, which first proves that every format is
#    really checked).
#  - Every unenforced validation keyword (test/structured/bad_schemas.json)
#    is 0A000 and the error names the keyword and where it is; malformed
#    schemas are 22023.
#  - llm_classify returns one of its labels for 100% of
#    test/structured/classify.json, adversarial inputs included.
#  - max_tokens: a budget too small for the model's answer still gives a
#    valid document (the engine closes it the shortest way; with more room
#    the same call writes more); a budget too small for the shortest valid
#    document is 54000.
#  - llm_summarize: non-empty, at most max_words words.  NULL inputs give
#    NULL; NULL optional arguments mean their defaults; bad arguments 22023.
#
# Python: $LLM_TEST_PYTHON (scripts/test passes the test venv's), else the
# venv scripts/setup makes, else python3; it needs jsonschema and the format
# helpers (scripts/setup pins them).
use strict;
use warnings;
use Encode qw(encode decode);
use JSON::PP;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

# Tokens per corpus document unless the entry says otherwise.
my $DEFAULT_MAX_TOKENS = 112;

my $root = $ENV{LLM_EXT_ROOT} or die "LLM_EXT_ROOT is not set";
my $dir = "$root/test/structured";
my $json = JSON::PP->new->utf8->canonical;

sub read_json
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!";
	local $/;
	return $json->decode(<$fh>);
}

my $corpus = read_json("$dir/corpus.json");
my $bad = read_json("$dir/bad_schemas.json");
my $classify = read_json("$dir/classify.json");

# ---------------------------------------------------------------------------
# The validator

# Run a program; return (exit code, stdout, stderr).
sub run_prog
{
	my ($cmd, $stdin) = @_;
	my ($out, $err) = ('', '');
	my $ok = eval { IPC::Run::run($cmd, '<', \($stdin // ''), '>', \$out, '2>', \$err); 1 };
	return (-1, '', $@) if !$ok && $@;
	return ($? >> 8, $out, $err);
}

my $python;
{
	my $cache = $ENV{LLM_EXT_CACHE} // '/var/cache/llm_ext';
	my @candidates = grep { defined && $_ ne '' }
	  ($ENV{LLM_TEST_PYTHON}, "$cache/venv/bin/python", 'python3');
	my @why;
	for my $py (@candidates)
	{
		my ($rc, $out, $err) = run_prog([ $py, "$dir/validate.py", '--self-test' ]);
		if ($rc == 0) { $python = $py; last; }
		push @why, "$py: " . (($out . $err) =~ s/\s+$//r);
	}
	ok(defined $python, 'a Python with jsonschema and its format helpers: '
		  . ($python // 'none (' . join('; ', @why) . ')'));
}

# Validate documents: a list of [name, schema, document JSON text]; returns
# a hash name => undef (valid) or the error.
sub validate_docs
{
	my ($docs) = @_;
	my %result;
	return \%result unless defined $python;
	my $tmp = PostgreSQL::Test::Utils::tempdir();
	my $file = "$tmp/docs.jsonl";
	open(my $fh, '>:raw', $file) or die "$file: $!";
	for my $d (@$docs)
	{
		my ($name, $schema, $doc_text) = @$d;
		# The document goes in as parsed JSON text, byte for byte as jsonb printed it.
		print $fh '{"name":' . $json->encode($name) . ',"schema":' . $json->encode($schema)
		  . ',"document":' . $doc_text . "}\n";
	}
	close $fh;
	my ($rc, $out, $err) = run_prog([ $python, "$dir/validate.py", $file ]);
	die "validate.py failed ($rc): $err" if $rc != 0;
	for my $line (split /\n/, $out)
	{
		my $r = $json->decode($line);
		next if exists $r->{summary};
		$result{ $r->{name} } = $r->{valid} ? undef : $r->{error};
	}
	return \%result;
}

# ---------------------------------------------------------------------------
# The server

my $node = PostgreSQL::Test::Cluster->new('structured');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION llm_ext');

# A Perl string as an SQL expression, whatever it holds.
sub sql_str
{
	my ($s) = @_;
	return 'NULL' if !defined $s;
	return "convert_from('\\x" . unpack('H*', encode('UTF-8', $s)) . "'::bytea, 'UTF8')";
}

# A Perl structure as a jsonb expression.
sub sql_jsonb
{
	my ($v) = @_;
	my $text = JSON::PP->new->utf8->canonical->allow_nonref->encode($v);
	return "convert_from('\\x" . unpack('H*', $text) . "'::bytea, 'UTF8')::jsonb";
}

# Run SQL; return (stdout, stderr with VERBOSITY verbose, so SQLSTATEs show).
sub run_sql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		stdout => \$out, stderr => \$err, on_error_stop => 0);
	return ($out, $err);
}

# Call wrappers that turn an error into a text, so that one statement runs a
# whole set in one backend: "ERROR <sqlstate> <message> DETAIL <detail>".
$node->safe_psql('postgres', <<'SQL');
CREATE FUNCTION try_extract(i text, s jsonb, ins text, mt integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	RETURN llm_extract_json(i, s, ins, mt)::text;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN 'ERROR ' || st || ' ' || msg || ' DETAIL ' || coalesce(det, '');
END $$;
CREATE FUNCTION try_classify(i text, l text[], ins text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
	RETURN 'OK ' || llm_classify(i, l, ins);
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN 'ERROR ' || st || ' ' || msg;
END $$;
SQL

# Run a query whose rows are (n, hex of a text); returns n => decoded text.
sub hex_rows
{
	my ($sql) = @_;
	my %got;
	for my $line (split /\n/, $node->safe_psql('postgres', $sql))
	{
		my ($n, $hex) = split /\|/, $line, 2;
		$got{$n} = decode('UTF-8', pack('H*', $hex // ''));
	}
	return \%got;
}

# ---------------------------------------------------------------------------
# (a) the corpus: every document parses and validates

ok(@$corpus >= 40, 'the corpus has at least 40 (schema, input) pairs: ' . scalar(@$corpus));
SKIP:
{
	skip 'no Python with jsonschema', 1 unless defined $python;
	# Every supported keyword and format is used, every schema is valid
	# under its draft, every entry's "keywords" list is true.
	my ($rc, $out, $err) = run_prog([ $python, "$dir/keyword_census.py", "$dir/corpus.json" ]);
	my ($summary) = $out =~ /^(corpus: .*)$/m;
	ok($rc == 0, 'keyword census: ' . ($summary // 'no summary') . ($rc ? "\n$out$err" : ''));
}
{
	my @values;
	for my $i (0 .. $#$corpus)
	{
		my $e = $corpus->[$i];
		push @values, sprintf("(%d, %s, %s, %s, %d)", $i, sql_str($e->{input}),
			sql_jsonb($e->{schema}), sql_str($e->{instruction}),
			$e->{max_tokens} // $DEFAULT_MAX_TOKENS);
	}
	my $t0 = time;
	my $got = hex_rows("SELECT n, encode(convert_to(try_extract(i, s, ins, mt), 'UTF8'), 'hex') "
		  . "FROM (VALUES " . join(",\n", @values) . ") AS v(n, i, s, ins, mt) ORDER BY n");
	my $secs = time - $t0;
	note sprintf("measured: corpus: %d llm_extract_json calls in %.1f s", scalar(@$corpus), $secs);

	my (@docs, @errors);
	for my $i (0 .. $#$corpus)
	{
		my $e = $corpus->[$i];
		my $out = $got->{$i} // 'ERROR (no row)';
		if ($out =~ /^ERROR/) { push @errors, "$e->{name}: $out"; next; }
		push @docs, [ $e->{name}, $e->{schema}, encode('UTF-8', $out) ];
	}
	ok(!@errors, sprintf('llm_extract_json gives a document for every corpus entry (%d/%d)',
			scalar(@$corpus) - @errors, scalar(@$corpus)));
	diag "  $_" for @errors;

  SKIP:
	{
		skip 'no Python with jsonschema', 1 unless defined $python;
		my $res = validate_docs(\@docs);
		my @invalid = grep { defined $res->{ $_->[0] } || !exists $res->{ $_->[0] } } @docs;
		my $n_valid = @docs - @invalid;
		note sprintf("measured: corpus: %d/%d documents validate (jsonschema, formats checked)",
			$n_valid, scalar(@$corpus));
		is($n_valid, scalar(@$corpus),
			"100% of the corpus documents validate against their schemas ($n_valid/" . scalar(@$corpus) . ')');
		for my $d (@invalid)
		{
			diag "  $d->[0]: " . ($res->{ $d->[0] } // 'not validated') . "\n    document: $d->[2]";
		}
	}

	# Greedy decoding: the same answer in another backend.
	my @some = grep { $_ % 20 == 3 } 0 .. $#$corpus;
	my $again = hex_rows("SELECT n, encode(convert_to(try_extract(i, s, ins, mt), 'UTF8'), 'hex') "
		  . "FROM (VALUES " . join(",\n", @values[@some]) . ") AS v(n, i, s, ins, mt) ORDER BY n");
	my @differ = grep { ($again->{$_} // '') ne ($got->{$_} // '') } @some;
	ok(!@differ, 'llm_extract_json gives the same document in another backend ('
		  . scalar(@some) . ' entries)' . (@differ ? ': not ' . join(' ', map { $corpus->[$_]{name} } @differ) : ''));
}

# ---------------------------------------------------------------------------
# (b) refused schemas: 0A000 naming the keyword and its place; malformed: 22023

{
	my @values;
	for my $i (0 .. $#$bad)
	{
		push @values, sprintf("(%d, %s)", $i, sql_jsonb($bad->[$i]{schema}));
	}
	my $got = hex_rows("SELECT n, encode(convert_to(try_extract('Some input text.', s, NULL, 16), 'UTF8'), 'hex') "
		  . "FROM (VALUES " . join(",\n", @values) . ") AS v(n, s) ORDER BY n");
	my ($n_unsupported, $n_malformed) = (0, 0);
	for my $i (0 .. $#$bad)
	{
		my $e = $bad->[$i];
		my $out = $got->{$i} // '';
		my $state = $e->{sqlstate};
		my $ok_state = $out =~ /^ERROR \Q$state\E /;
		my @missing;
		if (defined $e->{keyword})
		{
			# The keyword as a word of its own ("if" is not in "specified").
			push @missing, "keyword $e->{keyword}" unless $out =~ /(?<![\w\$])\Q$e->{keyword}\E(?!\w)/;
		}
		push @missing, "path $e->{path}" if defined $e->{path} && index($out, $e->{path}) < 0;
		for my $s (@{ $e->{expect} // [] })
		{
			push @missing, "'$s'" if index($out, $s) < 0;
		}
		ok($ok_state && !@missing, "$e->{name}: $state"
			  . (defined $e->{keyword} ? " naming $e->{keyword} at $e->{path}" : '')
			  . ($ok_state ? '' : " (got: $out)")
			  . (@missing ? " (message lacks @missing: $out)" : ''));
		$state eq '0A000' ? $n_unsupported++ : $n_malformed++;
	}
	note "measured: refused schemas: $n_unsupported unsupported (0A000), $n_malformed malformed (22023)";
}

# ---------------------------------------------------------------------------
# (c) llm_classify returns one of its labels

{
	my $sets = $classify->{label_sets};
	my @inputs = @{ $classify->{inputs} };
	my $n_adv = grep { $_->{adversarial} } @inputs;
	ok(@inputs >= 40 && $n_adv >= 10,
		sprintf('the classify corpus has %d inputs (at least 40), %d adversarial (at least 10)',
			scalar(@inputs), $n_adv));
	my @values;
	for my $i (0 .. $#inputs)
	{
		my $e = $inputs[$i];
		my $labels = ref $e->{labels} ? $e->{labels} : $sets->{ $e->{labels} };
		push @values, sprintf("(%d, %s, ARRAY[%s]::text[], %s)", $i, sql_str($e->{input}),
			join(', ', map { sql_str($_) } @$labels), sql_str($e->{instruction}));
	}
	my $t0 = time;
	my $got = hex_rows("SELECT n, encode(convert_to(try_classify(i, l, ins), 'UTF8'), 'hex') "
		  . "FROM (VALUES " . join(",\n", @values) . ") AS v(n, i, l, ins) ORDER BY n");
	note sprintf("measured: classify: %d llm_classify calls in %.1f s", scalar(@inputs), time - $t0);
	my ($in_labels, $adv_in_labels, $with_expected, $as_expected) = (0, 0, 0, 0);
	my @bad;
	for my $i (0 .. $#inputs)
	{
		my $e = $inputs[$i];
		my $labels = ref $e->{labels} ? $e->{labels} : $sets->{ $e->{labels} };
		my $out = $got->{$i} // 'ERROR (no row)';
		my $label = $out =~ /^OK (.*)\z/s ? $1 : undef;
		if (defined $label && grep { $_ eq $label } @$labels)
		{
			$in_labels++;
			$adv_in_labels++ if $e->{adversarial};
		}
		else
		{
			push @bad, "$e->{name}: $out";
		}
		if (defined $e->{expected})
		{
			$with_expected++;
			if (defined $label && $label eq $e->{expected}) { $as_expected++; }
			else { note "note: classify $e->{name}: " . encode('UTF-8', $label // $out) . " (expected $e->{expected})"; }
		}
	}
	note sprintf("measured: classify: %d/%d answers are one of the labels (%d/%d adversarial); "
		  . "%d/%d equal the expected label (accuracy, not a requirement)",
		$in_labels, scalar(@inputs), $adv_in_labels, $n_adv, $as_expected, $with_expected);
	is($in_labels, scalar(@inputs), "llm_classify returns one of its labels on 100% of the corpus ($in_labels/"
		  . scalar(@inputs) . ", $adv_in_labels/$n_adv adversarial)");
	diag "  $_" for @bad;
}

# ---------------------------------------------------------------------------
# (d) max_tokens

{
	my $long_input = 'Write a very long and detailed description of the history of the city of '
	  . 'Rome, from its founding to the present day, with every emperor and every pope.';
	my @cases = (
		[ 'object with a long string', 20,
			{ type => 'object',
			  properties => { summary => { type => 'string' }, count => { type => 'integer' } },
			  required => [ 'summary', 'count' ] } ],
		[ 'array of at least two strings', 10,
			{ type => 'array', items => { type => 'string' }, minItems => 2 } ],
		[ 'nested required objects', 24,
			{ type => 'object',
			  properties => { a => { type => 'object',
					  properties => { b => { type => 'string' }, c => { type => 'boolean' } },
					  required => [ 'b', 'c' ] } },
			  required => ['a'] } ],
	);
	my (@docs, %budget_of);
	for my $c (@cases)
	{
		my ($what, $mt, $schema) = @$c;
		my ($out, $err) = run_sql("SELECT try_extract(" . sql_str($long_input) . ', '
			  . sql_jsonb($schema) . ", NULL, $mt)");
		chomp $out;
		my $ok = $out ne '' && $out !~ /^ERROR/;
		ok($ok, "max_tokens => $mt, $what: a document" . ($ok ? '' : " (got: $out $err)"));
		next unless $ok;
		push @docs, [ $what, $schema, $out ];
		# How many tokens the document is, compactly written.
		my ($n) = run_sql("SELECT llm_token_count(" . sql_str(decode('UTF-8', JSON::PP->new->utf8->canonical
			  ->allow_nonref->encode(JSON::PP->new->utf8->allow_nonref->decode($out)))) . ")");
		chomp $n;
		note "measured: max_tokens => $mt, $what: $out ($n tokens as compact JSON)";
	}
	# The budget did cut the answer: with room, the model writes more.
	{
		my ($short) = run_sql("SELECT length(try_extract(" . sql_str($long_input) . ', '
			  . sql_jsonb($cases[0][2]) . ", NULL, $cases[0][1]))");
		my ($long) = run_sql("SELECT length(try_extract(" . sql_str($long_input) . ', '
			  . sql_jsonb($cases[0][2]) . ", NULL, 128))");
		chomp($short, $long);
		ok($short =~ /^\d+$/ && $long =~ /^\d+$/ && $long > $short,
			"with max_tokens => 128 the same call writes more ($long characters) than with $cases[0][1] ($short)");
	}
  SKIP:
	{
		skip 'no Python with jsonschema', 1 unless defined $python;
		my $res = validate_docs(\@docs);
		my @invalid = grep { defined $res->{ $_->[0] } || !exists $res->{ $_->[0] } } @docs;
		ok(@docs == @cases && !@invalid, 'documents cut short by max_tokens still validate'
			  . (@invalid ? ': not ' . join('; ', map { "$_->[0] ($res->{$_->[0]})" } @invalid) : ''));
	}

	# Budgets that cannot hold even the shortest valid document: 54000.
	my @too_small = (
		[ 'a string of at least 40 letters', 3, { type => 'string', minLength => 40, pattern => '^[a-z]+$' } ],
		[ 'a long const', 4, { const => 'This constant sentence is much longer than four tokens can ever be.' } ],
		[ 'at least 50 array items', 10, { type => 'array', items => { type => 'integer' }, minItems => 50 } ],
		[ 'twelve required properties', 5, { type => 'object',
				properties => { map { ("field_$_" => { type => 'boolean' }) } 1 .. 12 },
				required => [ map { "field_$_" } 1 .. 12 ] } ],
	);
	for my $c (@too_small)
	{
		my ($what, $mt, $schema) = @$c;
		my (undef, $err) = run_sql("SELECT llm_extract_json('Some input.', " . sql_jsonb($schema)
			  . ", max_tokens => $mt);");
		like($err, qr/ERROR:\s+54000:/, "max_tokens => $mt cannot hold $what: 54000");
	}
}

# ---------------------------------------------------------------------------
# (e) llm_summarize, NULLs, defaults and bad arguments

{
	my $text = 'The city council met on Tuesday to discuss the new cycling plan. After three hours of '
	  . 'debate, members voted 7 to 2 to build protected bike lanes on Main Street and Harbour Road, '
	  . 'starting next spring. Local shop owners worried about losing parking spaces, so the council '
	  . 'promised a new car park behind the market hall. The project will cost 2.4 million euros, '
	  . 'two thirds of it paid by a regional grant. Construction should take about eight months.';
	for my $mw (5, 12, 30, undef)
	{
		my $arg = defined $mw ? $mw : 'NULL';
		my $limit = $mw // 60;
		my $sum = decode('UTF-8', pack('H*', $node->safe_psql('postgres',
			"SELECT encode(convert_to(llm_summarize(" . sql_str($text) . ", max_words => $arg), 'UTF8'), 'hex')")));
		my @words = split ' ', $sum;
		note "measured: llm_summarize(max_words => $arg): " . scalar(@words) . " words: " . encode('UTF-8', $sum);
		ok(@words >= 1 && @words <= $limit,
			"llm_summarize(max_words => $arg) gives 1 to $limit words (" . scalar(@words) . ')');
	}
	my $sum = $node->safe_psql('postgres', "SELECT llm_summarize(" . sql_str($text) . ")");
	my @words = split ' ', $sum;
	ok(@words >= 1 && @words <= 60, 'llm_summarize with the default max_words: at most 60 words ('
		  . scalar(@words) . ')');
}

is($node->safe_psql('postgres',
		"SELECT llm_extract_json(NULL, '{\"type\":\"string\"}') IS NULL, "
	  . "llm_classify(NULL, ARRAY['a','b']) IS NULL, llm_summarize(NULL) IS NULL, "
	  . "llm_summarize(NULL, 10) IS NULL"),
	't|t|t|t', 'a NULL input gives NULL (llm_extract_json, llm_classify, llm_summarize)');

# NULL optional arguments mean their defaults.
{
	my $schema = { type => 'object', properties => { name => { type => 'string', maxLength => 20 },
			age => { type => 'integer', minimum => 0, maximum => 150 } }, required => [ 'name', 'age' ] };
	my $out = $node->safe_psql('postgres', "SELECT llm_extract_json('Bob Smith is 30 years old.', "
		  . sql_jsonb($schema) . ", NULL, NULL, NULL)");
  SKIP:
	{
		skip 'no Python with jsonschema', 1 unless defined $python;
		my $res = validate_docs([ [ 'nulls', $schema, $out ] ]);
		ok(exists $res->{nulls} && !defined $res->{nulls},
			"llm_extract_json with NULL instruction, max_tokens and model: a valid document ($out)");
	}
	my $label = $node->safe_psql('postgres',
		"SELECT llm_classify('The app crashes on start.', ARRAY['bug', 'billing'], NULL, NULL)");
	ok($label eq 'bug' || $label eq 'billing', "llm_classify with NULL instruction and model: a label ($label)");
}

my @bad_args = (
	[ "llm_extract_json('x', '{\"type\":\"string\"}', max_tokens => 0)", '22023', 'max_tokens 0' ],
	[ "llm_extract_json('x', '{\"type\":\"string\"}', max_tokens => -5)", '22023', 'max_tokens -5' ],
	[ "llm_extract_json('x', '{\"type\":\"string\"}', model => 'no_such_model')", '42704', 'an unknown model' ],
	[ "llm_classify('x', ARRAY[]::text[])", '22023', 'no labels' ],
	[ "llm_classify('x', ARRAY['a', NULL])", '22023', 'a NULL label' ],
	[ "llm_classify('x', ARRAY['a', ''])", '22023', 'an empty label' ],
	[ "llm_classify('x', ARRAY['a', 'a'])", '22023', 'duplicate labels' ],
	[ "llm_classify('x', ARRAY['a', 'b'], model => 'no_such_model')", '42704', 'classify: an unknown model' ],
	[ "llm_summarize('x', max_words => 0)", '22023', 'max_words 0' ],
	[ "llm_summarize('x', max_words => -3)", '22023', 'max_words -3' ],
);
for my $case (@bad_args)
{
	my ($sql, $state, $what) = @$case;
	my (undef, $err) = run_sql("SELECT $sql;");
	like($err, qr/ERROR:\s+$state:/, "$what: $state");
}

$node->stop;
done_testing();
