-- llm_ext 0.1.0: language models inside PostgreSQL.
\echo Use "CREATE EXTENSION llm_ext" to load this file. \quit

-- Tokenization.  Plain text in, plain text out: no BOS/EOS is added and
-- text that looks like a special token is tokenized as text, so
-- llm_detokenize(llm_tokenize(s)) = s.  Not STRICT: a NULL model means
-- llm.default_model, a NULL input gives NULL.  STABLE: the result depends
-- on the model file, which does not change within a statement.  PARALLEL
-- SAFE: no backend-local state affects the result; a parallel worker opens
-- the model itself (a shared mapping, a few milliseconds).
CREATE FUNCTION llm_tokenize(input text, model text DEFAULT NULL)
RETURNS integer[]
AS 'MODULE_PATHNAME', 'sql_llm_tokenize'
LANGUAGE C STABLE PARALLEL SAFE COST 1000;

CREATE FUNCTION llm_detokenize(tokens integer[], model text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'sql_llm_detokenize'
LANGUAGE C STABLE PARALLEL SAFE COST 1000;

CREATE FUNCTION llm_token_count(input text, model text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'sql_llm_token_count'
LANGUAGE C STABLE PARALLEL SAFE COST 1000;

-- The models in llm.model_dir.  "loaded": open in this backend.
CREATE FUNCTION llm_models_list(
    OUT name text,
    OUT path text,
    OUT architecture text,
    OUT parameters bigint,
    OUT quantization text,
    OUT context_length bigint,
    OUT vocab_size bigint,
    OUT file_bytes bigint,
    OUT has_chat_template boolean,
    OUT loaded boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'sql_llm_models_list'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

CREATE VIEW llm_models AS SELECT * FROM llm_models_list();

-- Generation.  VOLATILE: sampling at temperature > 0 differs per call, and
-- the model file can change.  PARALLEL RESTRICTED: each call uses this
-- backend's model cache and KV cache (like random(), backend-local state);
-- a parallel worker would load its own copy of both for each query, which
-- costs more than it gains for a per-row function.  COST is high so the
-- planner evaluates cheap quals first and calls it as rarely as it can.
CREATE FUNCTION llm_generate(prompt text,
                             max_tokens integer DEFAULT NULL,
                             temperature float8 DEFAULT 0,
                             top_p float8 DEFAULT 1,
                             top_k integer DEFAULT 0,
                             seed bigint DEFAULT NULL,
                             stop text[] DEFAULT NULL,
                             system text DEFAULT NULL,
                             raw boolean DEFAULT false,
                             model text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'sql_llm_generate'
LANGUAGE C VOLATILE PARALLEL RESTRICTED COST 1000000;

CREATE FUNCTION llm_chat(messages jsonb,
                         max_tokens integer DEFAULT NULL,
                         temperature float8 DEFAULT 0,
                         top_p float8 DEFAULT 1,
                         top_k integer DEFAULT 0,
                         seed bigint DEFAULT NULL,
                         stop text[] DEFAULT NULL,
                         model text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'sql_llm_chat'
LANGUAGE C VOLATILE PARALLEL RESTRICTED COST 1000000;

-- Structured output.  llm_extract_json decodes under the JSON schema (the
-- engine's constraint), so the result always parses and validates;
-- llm_classify returns exactly one of its labels; both decode greedily, so
-- the same row gives the same answer.  A NULL input (or schema / labels)
-- gives NULL.  Same volatility and parallel safety as llm_generate.
CREATE FUNCTION llm_extract_json(input text,
                                 schema jsonb,
                                 instruction text DEFAULT NULL,
                                 max_tokens integer DEFAULT NULL,
                                 model text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'sql_llm_extract_json'
LANGUAGE C VOLATILE PARALLEL RESTRICTED COST 1000000;

CREATE FUNCTION llm_classify(input text,
                             labels text[],
                             instruction text DEFAULT NULL,
                             model text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'sql_llm_classify'
LANGUAGE C VOLATILE PARALLEL RESTRICTED COST 1000000;

CREATE FUNCTION llm_summarize(input text,
                              max_words integer DEFAULT 60,
                              model text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'sql_llm_summarize'
LANGUAGE C VOLATILE PARALLEL RESTRICTED COST 1000000;
