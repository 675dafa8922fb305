-- llm_generate / llm_chat on the default model.  Greedy output is
-- deterministic, so it can be compared as text (llama.cpp answers the same:
-- see test/t/003_generate.pl for the comparison on 37 inputs).
SELECT llm_generate('What is the capital of France?', max_tokens => 16);
SELECT llm_generate('What is the capital of France?', max_tokens => 16)
     = llm_chat('[{"role": "user", "content": "What is the capital of France?"}]', max_tokens => 16) AS chat_equals_generate;
-- max_tokens bounds the answer.
SELECT llm_token_count(llm_generate('Write a long story about a cat.', max_tokens => 5)) <= 5 AS bounded;
-- A stop string is excluded from the output.
SELECT llm_generate('What is the capital of France?', max_tokens => 16, stop => ARRAY['Marseillaise']);
-- raw: plain completion, no chat template.
SELECT llm_generate('The capital of France is', raw => true, max_tokens => 3);
-- NULL prompt gives NULL; NULL options mean the defaults.
SELECT llm_generate(NULL) IS NULL AS null_prompt, llm_chat(NULL) IS NULL AS null_messages;
SELECT llm_generate('Hi', max_tokens => 4, temperature => NULL, top_p => NULL, top_k => NULL, stop => NULL) IS NOT NULL AS defaults;

-- Bad arguments: 22023 with a message naming the argument.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pg_temp.try($$SELECT llm_generate('x', max_tokens => 0)$$);
SELECT pg_temp.try($$SELECT llm_generate('x', max_tokens => -1)$$);
SELECT pg_temp.try($$SELECT llm_generate('x', temperature => -1)$$);
SELECT pg_temp.try($$SELECT llm_generate('x', temperature => 'NaN')$$);
SELECT pg_temp.try($$SELECT llm_generate('x', top_p => 0)$$);
SELECT pg_temp.try($$SELECT llm_generate('x', top_p => 1.5)$$);
SELECT pg_temp.try($$SELECT llm_generate('x', top_k => -1)$$);
SELECT pg_temp.try($$SELECT llm_chat('{"role": "user"}')$$);
SELECT pg_temp.try($$SELECT llm_chat('[]')$$);
SELECT pg_temp.try($$SELECT llm_chat('[1]')$$);
SELECT pg_temp.try($$SELECT llm_chat('[{"content": "hi"}]')$$);
SELECT pg_temp.try($$SELECT llm_chat('[{"role": "user"}]')$$);
SELECT pg_temp.try($$SELECT llm_chat('[{"role": 1, "content": "hi"}]')$$);
SELECT pg_temp.try($$SELECT llm_chat('[{"role": "robot", "content": "hi"}]')$$);
-- A prompt longer than the context: 54000 with both counts.
SET llm.context_size = 64;
SELECT pg_temp.try($$SELECT llm_generate(repeat('word ', 100))$$);
RESET llm.context_size;
-- An unknown model: 42704.
SELECT pg_temp.try($$SELECT llm_generate('x', model => 'no_such_model')$$);
