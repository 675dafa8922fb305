-- Every error carries a SQLSTATE and a message a user can act on.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Unknown model: 42704.
SELECT pg_temp.try($$SELECT llm_tokenize('x', model => 'no_such_model')$$);
-- Names that could leave llm.model_dir: 42501.
SELECT pg_temp.try($$SELECT llm_tokenize('x', model => '../../../etc/passwd')$$);
SELECT pg_temp.try($$SELECT llm_tokenize('x', model => 'sub/dir')$$);
SELECT pg_temp.try($$SELECT llm_tokenize('x', model => '/etc/passwd')$$);
SELECT pg_temp.try($$SELECT llm_tokenize('x', model => '.hidden')$$);
-- Bad names: 22023.
SELECT pg_temp.try($$SELECT llm_tokenize('x', model => '')$$);
SELECT pg_temp.try($$SELECT llm_tokenize('x', model => repeat('m', 300))$$);

-- Token ids out of range: 22023.
SELECT pg_temp.try($$SELECT llm_detokenize(ARRAY[-1])$$);
SELECT pg_temp.try($$SELECT llm_detokenize(ARRAY[49152])$$);
SELECT pg_temp.try($$SELECT llm_detokenize(ARRAY[2147483647])$$);
SELECT pg_temp.try($$SELECT llm_detokenize(ARRAY[1, NULL])$$);
SELECT pg_temp.try($$SELECT llm_detokenize(ARRAY[[1, 2], [3, 4]])$$);

-- No default model.
SET llm.default_model = '';
SELECT pg_temp.try($$SELECT llm_token_count('x')$$);
RESET llm.default_model;

-- llm.model_dir must be absolute; a missing directory is reported.
SELECT pg_temp.try($$SET llm.model_dir = 'relative/dir'$$);
SET llm.model_dir = '/nonexistent/llm/models';
SELECT pg_temp.try($$SELECT llm_token_count('x')$$);
RESET llm.model_dir;

-- The llm. prefix is reserved.
SELECT pg_temp.try($$SET llm.no_such_setting = 1$$);

-- Still working after all that.
SELECT llm_token_count('still here');
