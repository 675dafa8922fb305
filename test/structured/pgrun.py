"""Run SQL through psql for the benchmark scripts in test/ (no Python
PostgreSQL driver needed).  Values travel hex-encoded both ways, so any text
(newlines, '|', quotes, any Unicode) survives psql's formatting.

    from pgrun import Psql, sql_text
    db = Psql("dbname=postgres")           # as root: runs psql as postgres
    rows = db.call_rows("try_extract", [(sql_text(i), sql_text(s) + "::jsonb", ...)])
"""
import os
import subprocess

# Wrappers that catch a call's error, so that one statement can run many
# calls: "OK <result>" or "ERROR <sqlstate> <message> DETAIL <detail>".
# pg_temp: nothing is left behind in the database.
WRAPPERS = r"""
CREATE FUNCTION pg_temp.try_extract(i text, s jsonb, ins text, mt integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	RETURN 'OK ' || llm_extract_json(i, s, ins, mt)::text;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN 'ERROR ' || st || ' ' || msg || ' DETAIL ' || coalesce(det, '');
END $$;
CREATE FUNCTION pg_temp.try_generate(p text, mt integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
	RETURN 'OK ' || llm_generate(p, max_tokens => mt, temperature => 0);
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN 'ERROR ' || st || ' ' || msg;
END $$;
"""


def sql_text(s):
    """A Python str (or None) as an SQL text expression."""
    if s is None:
        return "NULL"
    return "convert_from('\\x%s'::bytea, 'UTF8')" % s.encode("utf-8").hex()


class Psql:
    def __init__(self, dbname="dbname=postgres", user=None, settings=None):
        """user: run psql as this OS user (default: postgres when we are
        root, so that peer authentication works on a stock cluster)."""
        if user is None and os.geteuid() == 0 and "PGUSER" not in os.environ:
            user = "postgres"
        self.prefix = ["runuser", "-u", user, "--"] if user and user != "root" else []
        self.dbname = dbname
        self.settings = settings or {}

    def run(self, sql, timeout=None):
        """Run a script; return stdout (unaligned, tuples only).  Raises
        RuntimeError with psql's stderr on failure."""
        head = "".join("SET %s = '%s';\n" % (k, v) for k, v in self.settings.items())
        cmd = self.prefix + ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                             "-d", self.dbname]
        p = subprocess.run(cmd, input=(head + WRAPPERS + sql).encode("utf-8"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           cwd="/")
        if p.returncode != 0:
            raise RuntimeError(p.stderr.decode("utf-8", "replace").strip())
        return p.stdout.decode("utf-8")

    def call_rows(self, func, arg_rows, timeout=None):
        """SELECT pg_temp.func(args) for every row of SQL argument
        expressions, in one statement (one backend: the model loads once).
        Returns the results in order, as str."""
        if not arg_rows:
            return []
        n_args = len(arg_rows[0])
        cols = ", ".join("a%d" % i for i in range(n_args))
        values = ",\n".join("(%d, %s)" % (k, ", ".join(r)) for k, r in enumerate(arg_rows))
        sql = ("SELECT n, encode(convert_to(pg_temp.%s(%s), 'UTF8'), 'hex') FROM (VALUES %s) "
               "AS v(n, %s) ORDER BY n;\n" % (func, cols, values, cols))
        out = self.run(sql, timeout=timeout)
        got = {}
        for line in out.split("\n"):
            if "|" not in line:
                continue
            n, h = line.split("|", 1)
            got[int(n)] = bytes.fromhex(h).decode("utf-8")
        return [got.get(k, "ERROR no row") for k in range(len(arg_rows))]
