# Hostile model files and names never crash a backend: each gives an ERROR
# with a SQLSTATE, the server stays up, and its log has no backend killed by
# a signal.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bad_dir = $ENV{LLM_BAD_GGUF_DIR} or die "LLM_BAD_GGUF_DIR is not set";
my $model = $ENV{LLM_TEST_MODEL} or die "LLM_TEST_MODEL is not set";

my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init;
my $models = $node->basedir . '/models';
mkdir $models or die;
$node->append_conf('postgresql.conf', "llm.model_dir = '$models'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION llm_ext');

opendir(my $dh, $bad_dir) or die;
my @bad = sort grep { /\.gguf$/ } readdir($dh);
closedir $dh;
ok(@bad >= 10, 'hostile files were generated: ' . scalar(@bad));
copy("$bad_dir/$_", "$models/$_") or die "copy $_: $!" for @bad;

# A real model, once as a file, once behind a symlink inside the directory.
copy($model, "$models/good.gguf") or die;
symlink("$models/good.gguf", "$models/alias.gguf") or die;
# Symlinks that lead outside the directory.
symlink('/etc/passwd', "$models/escape.gguf") or die;
symlink($model, "$models/outside.gguf") or die;

# Run one statement; return (sqlstate or 'ok', stderr).
sub try_sql
{
	my ($sql) = @_;
	my ($stdout, $stderr);
	$node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		stdout => \$stdout, stderr => \$stderr);
	return ('ok', $stdout) if $stderr !~ /ERROR/;
	my ($code) = $stderr =~ /ERROR:\s+([0-9A-Z]{5}):/;
	return ($code // 'no-sqlstate', $stderr);
}

# Files that are not valid GGUF: data_corrupted, or feature_not_supported
# for a valid file using something we do not implement.
my %expect = (
	'not_gguf' => 'XX001',
	'empty' => 'XX001',
	'truncated_header' => 'XX001',
	'truncated_kv' => 'XX001',
	'truncated_tensor_info' => 'XX001',
	'truncated_data' => 'XX001',
	'huge_kv_count' => 'XX001',
	'huge_string_len' => 'XX001',
	'huge_array_count' => 'XX001',
	'bad_offset' => 'XX001',
	'bad_alignment' => 'XX001',
	'deep_nesting' => 'XX001|0A000',
	'unknown_tensor_type' => '0A000',
	'bad_hparams' => 'XX001',
	'duplicate_key' => 'XX001',
	'version1' => '0A000',
	# Valid files: tokenizing works (an unsupported architecture is refused
	# only by what needs its forward pass).
	'tiny_valid' => 'ok',
	'tiny_vocab_only' => 'ok',
	'unsupported_arch' => 'ok',);

foreach my $f (@bad)
{
	(my $name = $f) =~ s/\.gguf$//;
	my ($code, $msg) = try_sql("SELECT llm_token_count('hello', model => '$name')");
	if (exists $expect{$name})
	{
		like($code, qr/^($expect{$name})$/, "$name: SQLSTATE $code");
	}
	else
	{
		fail("$name: no expectation for this file (got $code)");
	}
}

my ($code, $msg);
($code) = try_sql("SELECT llm_token_count('hello', model => 'good')");
is($code, 'ok', 'a real model in the directory works');
($code) = try_sql("SELECT llm_token_count('hello', model => 'alias')");
is($code, 'ok', 'a symlink inside the directory works');
($code) = try_sql("SELECT llm_token_count('hello', model => 'escape')");
is($code, '42501', 'a symlink to /etc/passwd is refused');
($code) = try_sql("SELECT llm_token_count('hello', model => 'outside')");
is($code, '42501', 'a symlink to a real model outside the directory is refused');
($code) = try_sql("SELECT llm_token_count('hello', model => '../models/good')");
is($code, '42501', 'a name with .. is refused');
($code) = try_sql("SELECT llm_token_count('hello', model => '$models/good')");
is($code, '42501', 'an absolute path is refused');
($code) = try_sql("SELECT llm_token_count('hello', model => 'missing')");
is($code, '42704', 'an unknown model is undefined_object');

# Generation needs a forward pass: other architectures and vocabulary-only
# files are refused with a SQLSTATE, not a crash.
($code) = try_sql("SELECT llm_generate('hello', model => 'unsupported_arch', max_tokens => 2)");
is($code, '0A000', 'generation with an unsupported architecture is feature_not_supported');
($code) = try_sql("SELECT llm_generate('hello', model => 'tiny_vocab_only', max_tokens => 2)");
is($code, '0A000', 'generation with a vocabulary-only file is feature_not_supported');
($code) = try_sql("SELECT llm_generate('hello', model => 'tiny_valid', max_tokens => 2)");
is($code, 'ok', 'generation with a tiny valid model works');

# The model listing survives every bad file.
($code, $msg) = try_sql("SELECT count(*) FROM llm_models");
is($code, 'ok', 'llm_models lists a directory full of bad files');
my $listed = $node->safe_psql('postgres',
	"SELECT string_agg(name || ':' || coalesce(architecture, '-'), ',' ORDER BY name) FROM llm_models");
like($listed, qr/good:llama/, 'the good model is listed with its architecture');
like($listed, qr/not_gguf:-/, 'a bad file is listed with NULL details');
like($listed, qr/escape:-.*outside:-/, 'symlinks leading outside are listed by name only');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM llm_models WHERE name IN ('escape', 'outside') AND path IS NULL AND architecture IS NULL"),
	'2', 'and their path and details are not shown');

# A non-superuser cannot point llm.model_dir elsewhere: not once the library
# is loaded ...
$node->safe_psql('postgres', 'CREATE ROLE alice LOGIN');
my $other = $node->basedir . '/other';
mkdir $other or die;
copy($model, "$other/secret.gguf") or die;
my ($out, $err);
$node->psql('postgres',
	"SELECT llm_token_count('x', model => 'good');\nSET llm.model_dir = '$other';",
	extra_params => [ '-U', 'alice' ], stderr => \$err);
like($err, qr/permission denied to set parameter "llm.model_dir"/,
	'a non-superuser cannot set llm.model_dir');
# ... nor before (the value is a placeholder until the library loads, and
# is then discarded because alice may not set it).
$node->psql('postgres',
	"\\set VERBOSITY verbose\nSET llm.model_dir = '$other';\nSELECT llm_token_count('x', model => 'secret');",
	extra_params => [ '-U', 'alice' ], stderr => \$err);
like($err, qr/42704/, 'a placeholder llm.model_dir set by a non-superuser is ignored');

# The model file is replaced while a session has it open: the session
# notices and opens the new file.
my $session = $node->background_psql('postgres', on_error_stop => 0);
my $before = $session->query_safe("SELECT llm_token_count('hello', model => 'good')");
copy("$models/not_gguf.gguf", "$models/good.gguf.new") or die;
rename("$models/good.gguf.new", "$models/good.gguf") or die;
my $ret = $session->query("SELECT llm_token_count('hello', model => 'good')");
like($session->{stderr}, qr/could not open model|not a GGUF/i,
	'a replaced model file is reopened (and its errors seen)');
$session->quit;

# The server is up and nothing was killed.
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server still answers');
$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend was terminated by a signal');
unlike($log, qr/server process .* was terminated/, 'no server process crashed');

done_testing();
