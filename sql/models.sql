-- The llm_models view and the settings.
SELECT name, architecture, parameters, quantization, context_length, vocab_size,
       file_bytes, has_chat_template, path LIKE '%/llm_ext/models/SmolLM2-135M-Instruct.Q4_1.gguf' AS path_ok
FROM llm_models WHERE name = 'SmolLM2-135M-Instruct.Q4_1';

-- Each test file runs in a new session: the model is not open yet ...
SELECT loaded FROM llm_models WHERE name = 'SmolLM2-135M-Instruct.Q4_1';
SELECT llm_token_count('open it');
-- ... and now it is.
SELECT loaded FROM llm_models WHERE name = 'SmolLM2-135M-Instruct.Q4_1';

SHOW llm.default_model;
SELECT current_setting('llm.model_dir') LIKE '%/llm_ext/models' AS default_dir;

-- Function properties: not STRICT (NULL model = default), not IMMUTABLE.
SELECT proname, proisstrict, provolatile, proparallel
FROM pg_proc WHERE proname IN ('llm_tokenize', 'llm_detokenize', 'llm_token_count', 'llm_models_list')
ORDER BY proname;
