# Tokenizer fidelity through SQL: llm_tokenize on the default model gives
# exactly llama.cpp's ids for every string of the committed corpus, and
# llm_detokenize(llm_tokenize(s)) = s.  Also measures the time to the first
# result in a fresh backend (library load + model open + tokenize).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $root = $ENV{LLM_EXT_ROOT} or die "LLM_EXT_ROOT is not set";
my $golden = "$root/test/tokenizer/smollm2_golden.tsv";

my $node = PostgreSQL::Test::Cluster->new('golden');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION llm_ext');

# Load the golden file: hex of the UTF-8 text, TAB, ids.
open(my $fh, '<', $golden) or die "$golden: $!";
my @rows;
while (my $line = <$fh>)
{
	chomp $line;
	next if $line =~ /^#/ || $line eq '';
	my ($hex, $ids) = split(/\t/, $line, -1);
	$ids //= '';
	$ids =~ s/ /,/g;
	push @rows, "('$hex', '{$ids}')";
}
close $fh;
ok(@rows >= 300, 'the corpus has at least 300 strings: ' . scalar(@rows));

$node->safe_psql('postgres',
	"CREATE TABLE golden (n serial, hex text, ids int[]);\n"
	  . "INSERT INTO golden (hex, ids) VALUES "
	  . join(",\n", @rows) . ";\n"
	  . "ALTER TABLE golden ADD COLUMN s text;\n"
	  . "UPDATE golden SET s = convert_from(decode(hex, 'hex'), 'UTF8');");

my $total = $node->safe_psql('postgres', 'SELECT count(*) FROM golden');
my $same = $node->safe_psql('postgres',
	'SELECT count(*) FROM golden WHERE llm_tokenize(s) = ids');
is($same, $total, "llm_tokenize equals llama.cpp on $same/$total strings");
if ($same != $total)
{
	diag $node->safe_psql('postgres',
		"SELECT n, left(s, 40), ids, llm_tokenize(s) FROM golden "
		  . "WHERE llm_tokenize(s) <> ids ORDER BY n LIMIT 10");
}

my $counts = $node->safe_psql('postgres',
	'SELECT count(*) FROM golden WHERE llm_token_count(s) = cardinality(ids)');
is($counts, $total, 'llm_token_count equals the number of ids');

my $round = $node->safe_psql('postgres',
	'SELECT count(*) FROM golden WHERE llm_detokenize(llm_tokenize(s)) = s');
is($round, $total, "llm_detokenize(llm_tokenize(s)) = s on $round/$total strings");

my $ids_back = $node->safe_psql('postgres',
	'SELECT count(*) FROM golden WHERE llm_detokenize(ids) = s');
is($ids_back, $total, "llm_detokenize(llama.cpp's ids) = s on $ids_back/$total strings");

# Time to first result: a fresh backend loads the library, opens the model
# and tokenizes a short string.  The model's pages are in the page cache
# (as they are on a server that has used the model before).
my @times;
for my $i (1 .. 7)
{
	my ($out, $err);
	$node->psql('postgres', "\\timing on\nSELECT llm_token_count('hello world')",
		stdout => \$out, stderr => \$err);
	my ($ms) = $out =~ /Time: ([0-9.]+) ms/;
	push @times, $ms if defined $ms;
}
@times = sort { $a <=> $b } @times;
my $median = $times[ int(@times / 2) ];
note sprintf("measured: time to first result in a fresh backend: median %.1f ms (min %.1f, max %.1f, %d runs)",
	$median, $times[0], $times[-1], scalar @times);
print sprintf("# measured: time to first result in a fresh backend: median %.1f ms (min %.1f, max %.1f)\n",
	$median, $times[0], $times[-1]);
ok($median < 200, "time to first result is reasonable ($median ms)");

$node->stop;
done_testing();
