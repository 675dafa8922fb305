# Generation through SQL: llm_generate and llm_chat on the default model.
#
#  - Greedy fidelity: llm_generate(p, temperature => 0, max_tokens => 64)
#    equals llama.cpp's greedy chat completion (test/generate/
#    golden_smollm2.json) on at least $MIN_MATCH_RATE of the committed
#    prompts, and every mismatch is explained: at the first step where the texts part,
#    llama.cpp's own logits had our token within $NEAR_TIE of its choice.
#    The same for plain completions (raw => true) and message lists
#    (llm_chat).  Greedy output is bit-for-bit reproducible in another
#    backend, whatever that backend generated before.
#  - Sampling: a seed gives the same text in two backends; different seeds
#    differ; top_k => 1 is greedy; stop strings that span two tokens; the
#    system turn; raw completion.
#  - Bad arguments: 22023; a prompt longer than the context: 54000.
#  - Cancellation: statement_timeout stops a long decode and a long prefill
#    within 300 ms of the timeout, and the backend goes on working.
use strict;
use warnings;
use Encode qw(encode);
use JSON::PP;
use Digest::SHA;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

# A mismatch is a near tie when, at the first step where the texts part,
# the token we took was within this many logits of llama.cpp's choice in
# llama.cpp's own logits.  Why 0.5: llama.cpp disagrees with itself by about
# that much.  Only changing its summation order (flash attention on instead
# of off, same tokens) moves its top-1/top-2 margin by up to 0.70 logits on
# these inputs (under 0.53 at 99% of the steps), and flips its own greedy
# choice at 36 steps with margins up to 0.40; with flash attention on, its
# greedy text equals its own flash-attention-off text on only 14 of the 30
# prompts.  (make_golden.py measures all this; see the "statistics" header
# of the golden file and test/generate/README.md.)  So an implementation
# whose arithmetic differs from llama.cpp's in the last bits (another
# summation order, another rounding of activations) can part from it at a
# margin of that size without being wrong, while a real bug (a wrong
# template, token, position or sampler) shows up as a difference at a step
# where llama.cpp was sure (most margins are several logits: the median is
# 2.2), or as a token outside llama.cpp's five best.
my $NEAR_TIE = 0.5;
# The issue's requirement.  Since the forward pass reproduces llama.cpp's
# arithmetic (test/forward/README.md) we measure 100% on this machine.
my $MIN_MATCH_RATE = 0.90;

my $root = $ENV{LLM_EXT_ROOT} or die "LLM_EXT_ROOT is not set";
my $golden_path = "$root/test/generate/golden_smollm2.json";

my $golden = do
{
	open(my $fh, '<:raw', $golden_path) or die "$golden_path: $!";
	local $/;
	JSON::PP->new->utf8->decode(<$fh>);
};

my $node = PostgreSQL::Test::Cluster->new('generate');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION llm_ext');

# A Perl string as an SQL expression, whatever it holds.
sub sql_str
{
	my ($s) = @_;
	return "convert_from('\\x" . unpack('H*', encode('UTF-8', $s)) . "'::bytea, 'UTF8')";
}

# The UTF-8 bytes of an SQL text expression, safe from psql's formatting.
sub hex_of { return "encode(convert_to($_[0], 'UTF8'), 'hex')" }

# Run SQL; return (stdout, stderr with VERBOSITY verbose, so SQLSTATEs show).
sub run_sql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		stdout => \$out, stderr => \$err, on_error_stop => 0);
	return ($out, $err);
}

# One generation in a fresh backend; returns its UTF-8 bytes.
sub gen_bytes
{
	my ($call) = @_;
	return pack('H*', $node->safe_psql('postgres', 'SELECT ' . hex_of($call)));
}

# The golden data belongs to one model file: is it the installed default?
my $model_path = $node->safe_psql('postgres', "LOAD 'llm_ext';\n"
	  . "SELECT path FROM llm_models WHERE name = current_setting('llm.default_model')");
my $sha = Digest::SHA->new(256)->addfile($model_path, 'b')->hexdigest;
is($sha, $golden->{model_sha256},
	'the default model is the file the golden data was made from');

my @prompts = @{ $golden->{prompts} };
my @raws = @{ $golden->{raw} };
my @chats = @{ $golden->{chats} };
ok(@prompts >= 20, 'at least 20 golden prompts: ' . scalar(@prompts));

# ---------------------------------------------------------------------------
# Greedy fidelity

# Where our text parts from llama.cpp's, and whether that was a near tie.
#
# We do not see the ids we generated, only the text, so the first step
# where we took another token than llama.cpp is found in one of two ways:
#
#  1. by ids: the first index where llm_tokenize(our text) differs from
#     llama.cpp's gen_ids; our token there is that id (the end-of-turn
#     token if our ids end there).  Exact whenever both sides generated the
#     tokens the tokenizer would choose for their text, which is the common
#     case; but a model may emit a non-canonical split (" " + "day" instead
#     of " day"), and then:
#  2. by bytes: the llama.cpp step whose text holds the first differing byte
#     (its end-of-turn step if its text is a prefix of ours); our token is
#     the one of llama.cpp's five best there whose text starts our remaining
#     text (the end-of-turn token if our text ends there).
#
# The mismatch is explained when, by either way, our token is one of
# llama.cpp's five best at that step and within $NEAR_TIE logits of its
# choice in llama.cpp's own logits.  Each way looks at a single step, so a
# text that is wrong from an early step on (a real bug) cannot be explained
# by some near tie elsewhere.
sub first_step_by_ids
{
	my ($rec, $our_ids) = @_;
	my @gen = @{ $rec->{gen_ids} };
	pop @gen if $rec->{finish} eq 'stop';    # the end-of-turn token
	my $t = 0;
	$t++ while $t < @gen && $t < @$our_ids && $gen[$t] == $our_ids->[$t];
	return (undef, undef) if $t == @gen && $t == @$our_ids;    # same ids
	return (undef, undef) if $t == @gen && $rec->{finish} ne 'stop';
	my $eot = $rec->{finish} eq 'stop' ? $rec->{gen_ids}[-1] : 2;
	return ($t, $t < @$our_ids ? $our_ids->[$t] : $eot);
}

sub first_step_by_bytes
{
	my ($rec, $ours) = @_;
	my $theirs = encode('UTF-8', $rec->{text});
	my @off = @{ $rec->{offsets} };
	my $d = 0;
	$d++
	  while $d < length($ours)
	  && $d < length($theirs)
	  && substr($ours, $d, 1) eq substr($theirs, $d, 1);
	my $s;
	for my $i (0 .. $#off)
	{
		if ($off[$i] > $d) { $s = $i; last; }
	}
	if (!defined $s)
	{
		return (undef, undef) if $rec->{finish} ne 'stop';
		$s = $#off;    # llama.cpp ended its turn where we went on
	}
	my $rest = substr($ours, $s > 0 ? $off[ $s - 1 ] : 0);
	my ($id, $best);
	for my $e (@{ $rec->{top}[$s] })
	{
		my ($alt, $gap) = @$e;
		next if $alt == $rec->{steps}[$s][0];
		my $p = pack('H*', $rec->{pieces}{$alt} // '');
		my $fits = $p eq '' ? $rest eq '' : substr($rest, 0, length $p) eq $p;
		($id, $best) = ($alt, -$gap) if $fits && (!defined $best || -$gap < $best);
	}
	return ($s, $id);
}

# (near tie?, description) for our token $id at step $s.
sub judge_step
{
	my ($rec, $how, $s, $id) = @_;
	my $piece = sub {
		my $p = pack('H*', $rec->{pieces}{ $_[0] } // '');
		$p =~ s/\n/\\n/g;
		$p eq '' ? "<end>" : "'$p'";
	};
	my ($chosen, undef, $margin) = @{ $rec->{steps}[$s] };
	my $desc = sprintf("step %d (%s): llama.cpp took %d %s", $s, $how, $chosen, $piece->($chosen));
	return (0, "$desc by $margin; no token of its 5 best fits our text") if !defined $id;
	my ($gap) = map { -$_->[1] } grep { $_->[0] == $id } @{ $rec->{top}[$s] };
	return (0, sprintf("%s by %.3f over its second best; ours, %d, is not among its 5 best",
			$desc, $margin, $id))
	  if !defined $gap;
	return ($gap < $NEAR_TIE, sprintf("%s, ours %d %s was %.3f logits behind: %s", $desc, $id,
			$piece->($id), $gap, $gap < $NEAR_TIE ? 'a near tie' : 'NOT a near tie'));
}

sub explain_mismatch
{
	my ($rec, $ours, $our_ids) = @_;
	my @why;
	my ($s, $id) = first_step_by_ids($rec, $our_ids);
	if (defined $s)
	{
		my ($ok, $why) = judge_step($rec, 'by ids', $s, $id);
		return (1, $why) if $ok;
		push @why, $why;
	}
	($s, $id) = first_step_by_bytes($rec, $ours);
	if (defined $s)
	{
		my ($ok, $why) = judge_step($rec, 'by bytes', $s, $id);
		return (1, $why) if $ok;
		push @why, $why;
	}
	return (0, @why ? join('; ', @why) : 'no differing step found');
}

# Generate every input of a golden set in one backend (so later inputs
# reuse the cached prefix of earlier ones).  $call_of gives the SQL call for
# a record.  Returns name => [UTF-8 bytes, llm_tokenize ids of the text].
sub run_set
{
	my ($what, $recs, $call_of) = @_;
	my @values;
	for my $i (0 .. $#$recs)
	{
		push @values, "($i, " . $call_of->($recs->[$i]) . ")";
	}
	my $t0 = time;
	my $out = $node->safe_psql('postgres',
		"SELECT n, " . hex_of('x') . ", array_to_string(llm_tokenize(x), ' ') "
		  . "FROM (VALUES " . join(",\n", @values) . ") AS v(n, x) ORDER BY n");
	my $secs = time - $t0;
	my %got;
	for my $line (split /\n/, $out)
	{
		my ($n, $hex, $ids) = split /\|/, $line, 3;
		$got{ $recs->[$n]{name} } = [ pack('H*', $hex), [ split / /, $ids ] ];
	}
	note sprintf("measured: %s: %d greedy generations in %.1f s", $what, scalar(@$recs), $secs);
	return \%got;
}

sub compare_set
{
	my ($what, $recs, $got, $min_rate) = @_;
	my ($same, $explained, @unexplained) = (0, 0);
	for my $rec (@$recs)
	{
		my ($ours, $our_ids) = @{ $got->{ $rec->{name} } // [ '', [] ] };
		if ($ours eq encode('UTF-8', $rec->{text}))
		{
			$same++;
			next;
		}
		my ($ok, $why) = explain_mismatch($rec, $ours, $our_ids);
		note "note: $what $rec->{name} differs at $why";
		if ($ok) { $explained++; }
		else
		{
			push @unexplained, $rec->{name};
			diag "$rec->{name}:\n  llama.cpp: " . encode('UTF-8', $rec->{text}) . "\n  ours:      $ours";
		}
	}
	my $n = scalar @$recs;
	note sprintf("measured: greedy match %d/%d (%s, %.0f%%); the other %d: %d near ties, %d unexplained",
		$same, $n, $what, 100 * $same / $n, $n - $same, $explained, scalar @unexplained);
	ok($same >= $min_rate * $n, sprintf("%s: greedy text equals llama.cpp's on %d/%d (need %.0f%%)",
			$what, $same, $n, 100 * $min_rate))
	  if defined $min_rate;
	ok(!@unexplained, "$what: every difference from llama.cpp is a near tie (< $NEAR_TIE logits)"
		  . (@unexplained ? ": not @unexplained" : ''));
}

sub generate_call
{
	return 'llm_generate(' . sql_str($_[0]{prompt}) . ', temperature => 0, max_tokens => 64)';
}

my %runs;
$runs{prompts} = run_set('prompts', \@prompts, \&generate_call);
compare_set('prompts', \@prompts, $runs{prompts}, $MIN_MATCH_RATE);

$runs{raw} = run_set('raw', \@raws, sub {
	'llm_generate(' . sql_str($_[0]{prompt}) . ', raw => true, temperature => 0, max_tokens => 64)';
});
compare_set('raw', \@raws, $runs{raw});

$runs{chats} = run_set('chats', \@chats, sub {
	'llm_chat(' . sql_str(JSON::PP->new->canonical->encode($_[0]{messages}))
	  . '::jsonb, temperature => 0, max_tokens => 64)';
});
compare_set('chats', \@chats, $runs{chats});

# Our greedy text of each golden input, for the tests below.
my %greedy = map { my $k = $_; map { $_ => $runs{$k}{$_}[0] } keys %{ $runs{$k} } } keys %runs;

# Greedy is reproducible: other backends, other orders, other histories.
{
	my @some = reverse @prompts[ 0 .. 5 ];
	my $again = run_set('prompts again, reversed', \@some, \&generate_call);
	my @differ = grep { $again->{ $_->{name} }[0] ne $greedy{ $_->{name} } } @some;
	ok(!@differ, 'greedy output is the same in another backend, in another order'
		  . (@differ ? ': not ' . join(' ', map { $_->{name} } @differ) : ''));
}

# ---------------------------------------------------------------------------
# Sampling parameters

my %by_name = map { $_->{name} => $_ } @prompts, @raws, @chats;
my $p_haiku = sql_str($by_name{haiku}{prompt});
my $p_tips = sql_str($by_name{tips_list}{prompt});
my $p_meeting = sql_str($by_name{email_meeting}{prompt});
my $p_capital = sql_str($by_name{capital}{prompt});

# The same seed, the same text, in two backends.
for my $p ($p_haiku, $p_tips)
{
	my $call = "llm_generate($p, temperature => 0.8, seed => 1234, max_tokens => 40)";
	my $first = gen_bytes($call);
	my $second = gen_bytes($call);
	ok(length($first) > 0, 'sampling at temperature 0.8 gives text');
	is($first, $second, 'seed 1234 at temperature 0.8 gives the same text in two backends');
}
{
	my $call = "llm_generate($p_haiku, temperature => 0.8, max_tokens => 40)";
	my $first = pack('H*', $node->safe_psql('postgres', "SET llm.seed = 77; SELECT " . hex_of($call)));
	my $second = pack('H*', $node->safe_psql('postgres', "SET llm.seed = 77; SELECT " . hex_of($call)));
	is($first, $second, 'llm.seed = 77 gives the same text in two backends');
}

# Different seeds, different texts (temperature 1, 4 seeds, 3 prompts).
{
	my @distinct;
	for my $p ($p_haiku, $p_tips, $p_meeting)
	{
		my $out = $node->safe_psql('postgres',
			"SELECT count(DISTINCT llm_generate($p, temperature => 1, seed => s, max_tokens => 32)) "
			  . "FROM generate_series(1, 4) AS s");
		push @distinct, $out;
	}
	note "measured: distinct texts from seeds 1..4 at temperature 1: @distinct (of 4 each)\n";
	ok(!grep({ $_ < 2 } @distinct), "different seeds give different texts at temperature 1 (@distinct of 4)");
}

# top_k => 1 (and a tiny top_p) is greedy, whatever the temperature and seed.
for my $name (qw(capital joins haiku))
{
	my $p = sql_str($by_name{$name}{prompt});
	is(gen_bytes("llm_generate($p, temperature => 0.8, top_k => 1, seed => 5, max_tokens => 64)"),
		$greedy{$name}, "top_k => 1 at temperature 0.8 equals greedy ($name)");
}
is(gen_bytes("llm_generate($p_capital, temperature => 1, top_p => 1e-9, seed => 9, max_tokens => 64)"),
	$greedy{capital}, 'top_p => 1e-9 at temperature 1 equals greedy');

# A stop string that spans two generated tokens: the output is the greedy
# text cut before it.  The tokens are llama.cpp's, so take a prompt whose
# greedy text equals llama.cpp's.
{
	my ($name, $stop, $cut);
  PROMPT:
	for my $rec (@prompts)
	{
		my $text = encode('UTF-8', $rec->{text});
		next if $greedy{ $rec->{name} } ne $text;
		my @off = @{ $rec->{offsets} };
		for my $k (4 .. $#off - 2)
		{
			my $left = pack('H*', $rec->{pieces}{ $rec->{gen_ids}[$k] });
			my $right = pack('H*', $rec->{pieces}{ $rec->{gen_ids}[ $k + 1 ] });
			next unless $left =~ /^[\x20-\x7e]{2,}$/ && $right =~ /^[\x20-\x7e]{2,}$/;
			my $s = substr($left, -2) . substr($right, 0, 2);
			my $at = $off[$k] - 2;
			next unless index($text, $s) == $at;
			($name, $stop, $cut) = ($rec->{name}, $s, substr($text, 0, $at));
			last PROMPT;
		}
	}
  SKIP:
	{
		skip 'no prompt whose greedy text equals llama.cpp\'s has a usable token pair', 4
		  unless defined $stop;
		my $p = sql_str($by_name{$name}{prompt});
		my $s = sql_str($stop);
		note "note: stop string '$stop' spans two tokens of $name\n";
		is(gen_bytes("llm_generate($p, temperature => 0, max_tokens => 64, stop => ARRAY[$s])"),
			$cut, "a stop string across a token boundary cuts the text before it ($name)");
		is(gen_bytes("llm_generate($p, temperature => 0, max_tokens => 64, stop => ARRAY['zq#never', $s])"),
			$cut, 'the same after another stop string that never appears');
		is(gen_bytes("llm_generate($p, temperature => 0, max_tokens => 64, stop => ARRAY[$s, 'zq#never'])"),
			$cut, 'the same before another stop string that never appears');
		is(gen_bytes("llm_generate($p, temperature => 0, max_tokens => 64, stop => ARRAY['zq#never'])"),
			$greedy{$name}, 'a stop string that never appears changes nothing');
	}
}

# The system turn: a custom one changes the answer; the template's default
# one, given explicitly, does not; llm_chat with the same turns agrees.
{
	my $custom = sql_str('You are a pirate. Always answer like a pirate, in one short sentence.');
	my $with = gen_bytes("llm_generate($p_capital, system => $custom, temperature => 0, max_tokens => 64)");
	isnt($with, $greedy{capital}, 'a custom system turn changes the output');
	my $msgs = sql_str(JSON::PP->new->canonical->encode([
		{ role => 'system', content => 'You are a pirate. Always answer like a pirate, in one short sentence.' },
		{ role => 'user', content => $by_name{capital}{prompt} } ]));
	is(gen_bytes("llm_chat(${msgs}::jsonb, temperature => 0, max_tokens => 64)"), $with,
		'llm_chat with the same system and user turns gives the same text');
	my $default = sql_str('You are a helpful AI assistant named SmolLM, trained by Hugging Face');
	is(gen_bytes("llm_generate($p_capital, system => $default, temperature => 0, max_tokens => 64)"),
		$greedy{capital}, "the template's default system turn given explicitly changes nothing");
}

# raw => true: plain completion, not an answer (the raw golden set above
# compares it with llama.cpp's create_completion).
isnt(gen_bytes("llm_generate('The capital of France is', raw => true, temperature => 0, max_tokens => 16)"),
	gen_bytes("llm_generate('The capital of France is', temperature => 0, max_tokens => 16)"),
	'raw => true completes the text instead of answering it');

# llm_chat with just one user turn is llm_generate.
for my $name (qw(capital ticket_short))
{
	my $msgs = sql_str(JSON::PP->new->encode([ { role => 'user', content => $by_name{$name}{prompt} } ]));
	is(gen_bytes("llm_chat(${msgs}::jsonb, temperature => 0, max_tokens => 64)"), $greedy{$name},
		"llm_chat with one user turn equals llm_generate ($name)");
}
is($node->safe_psql('postgres', 'SELECT llm_generate(NULL) IS NULL AND llm_chat(NULL) IS NULL'),
	't', 'a NULL prompt or message list gives NULL');

# ---------------------------------------------------------------------------
# Bad arguments

my @bad = (
	[ "llm_generate('x', max_tokens => 0)", 'max_tokens 0' ],
	[ "llm_generate('x', max_tokens => -1)", 'max_tokens -1' ],
	[ "llm_generate('x', temperature => -1)", 'temperature -1' ],
	[ "llm_generate('x', temperature => 'NaN')", 'temperature NaN' ],
	[ "llm_generate('x', top_p => 0)", 'top_p 0' ],
	[ "llm_generate('x', top_p => 1.5)", 'top_p 1.5' ],
	[ "llm_generate('x', top_k => -1)", 'top_k -1' ],
	[ "llm_chat('{\"role\": \"user\", \"content\": \"hi\"}')", 'messages not an array' ],
	[ "llm_chat('[{\"content\": \"hi\"}]')", 'a message without role' ],
	[ "llm_chat('[{\"role\": \"user\"}]')", 'a message without content' ],
	[ "llm_chat('[{\"role\": 1, \"content\": \"hi\"}]')", 'a role that is not a string' ],
	[ "llm_chat('[{\"role\": \"user\", \"content\": \"hi\"}]', top_k => -1)", 'llm_chat top_k -1' ],
);
for my $case (@bad)
{
	my ($sql, $what) = @$case;
	my (undef, $err) = run_sql("SELECT $sql;");
	like($err, qr/ERROR:\s+22023:/, "$what: 22023");
}

# A prompt longer than the context: 54000, with both token counts.
{
	my $rec = $by_name{incident_report};
	my $n = scalar @{ $rec->{prompt_ids} };
	my (undef, $err) = run_sql("SET llm.context_size = 256;\nSELECT llm_generate("
		  . sql_str($rec->{prompt}) . ", max_tokens => 8);");
	like($err, qr/ERROR:\s+54000:/, "a $n-token prompt in a 256-token context: 54000");
	like($err, qr/\b$n\b/, "the message gives the prompt's $n tokens");
	like($err, qr/\b256\b/, 'the message gives the context size');
}

# ---------------------------------------------------------------------------
# Cancellation: statement_timeout = 200ms stops a generation within 300 ms
# of the timeout.  What is measured: the wall time of the one statement,
# from psql's side (Time::HiRes around the query in a session whose model
# is already open, so it holds no connection or model-loading time); it must
# be under 200 + 300 ms.  The session must then still work: it answers, and
# its next greedy generation is unchanged (the cancelled generation left its
# cache in a sound state).  Long inputs sit in a table to keep the log short.
$node->safe_psql('postgres',
	"CREATE TABLE inputs (name text PRIMARY KEY, prompt text);\n"
	  . "INSERT INTO inputs VALUES ('capital', " . sql_str($by_name{capital}{prompt}) . "), "
	  . "('long', " . sql_str(join("\n\n", map { $by_name{$_}{prompt} }
			qw(long_thread incident_report policy_question log_explain ticket_medium bug_triage))) . ")");

# Returns false (and tests nothing) when the statement ended before the
# timeout: then there was nothing to cancel.
sub timed_cancel
{
	my ($what, $setup, $statement) = @_;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe("\\set VERBOSITY verbose");
	$bg->query_safe($setup);
	$bg->query_safe("SET statement_timeout = '200ms'");
	my $t0 = time;
	my ($out, $failed) = $bg->query($statement);
	my $ms = 1000 * (time - $t0);
	my $err = $bg->{stderr};
	$bg->{stderr} = '';
	if (!$failed && $ms < 200)
	{
		note sprintf("note: %s: the statement ended after %.0f ms, before the timeout", $what, $ms);
		$bg->quit;
		return 0;
	}
	like($err, qr/ERROR:\s+57014:/, "$what: statement_timeout cancels it (57014)");
	note sprintf("measured: cancel during %s: statement ended after %.0f ms, %.0f ms after the 200 ms timeout",
		$what, $ms, $ms - 200);
	ok($ms < 200 + 300, sprintf("%s: ended within 300 ms of the timeout (%.0f ms in all)", $what, $ms));
	$bg->query_safe("RESET statement_timeout");
	is($bg->query_safe("SELECT 'alive'"), 'alive', "$what: the backend answers the next query");
	is(pack('H*', $bg->query_safe("SELECT " . hex_of('llm_generate(prompt, temperature => 0, max_tokens => 64)')
		. " FROM inputs WHERE name = 'capital'")),
		$greedy{capital}, "$what: the next greedy generation in that backend is unchanged");
	$bg->quit;
	return 1;
}

# Decode: a short prompt whose greedy continuation does not end (counting).
ok(timed_cancel('decode', "SELECT length(llm_generate('Hi', max_tokens => 2))",
		"SELECT llm_generate('Numbers from 1 to 1000: 1, 2, 3, 4, 5, 6,', raw => true, "
		  . "temperature => 0, max_tokens => 2000)"),
	'the decode of 2000 tokens outlasts the timeout');

# Prefill: a ~1500-token raw prompt and max_tokens => 1, so the statement
# is almost all prefill (the one token comes from the prefill's logits).
{
	my $n = $node->safe_psql('postgres', "SELECT llm_token_count(prompt) FROM inputs WHERE name = 'long'");
	ok($n >= 1200 && $n <= 1900, "the long prompt is $n tokens");
  SKIP:
	{
		skip "the prefill of $n tokens ends before the timeout: nothing to cancel", 4
		  unless timed_cancel('prefill',
			"SET llm.context_size = 2048; SELECT length(llm_generate('Hi', raw => true, max_tokens => 2))",
			"SELECT llm_generate(prompt, raw => true, max_tokens => 1) FROM inputs WHERE name = 'long'");
	}
}

$node->stop;
done_testing();
