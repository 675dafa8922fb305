-- llm_tokenize / llm_detokenize / llm_token_count on the default model.
-- The ids are llama.cpp's for SmolLM2-135M-Instruct (see test/tokenizer).
SELECT llm_tokenize('Hello world! 123');
SELECT llm_token_count('Hello world! 123');
SELECT llm_tokenize('  multiple   spaces');
SELECT llm_tokenize(E'\n');

-- The empty string has no tokens.
SELECT llm_tokenize(''), llm_token_count(''), llm_detokenize('{}') = '';

-- A NULL input gives NULL; a NULL model means llm.default_model.
SELECT llm_tokenize(NULL) IS NULL AS t, llm_token_count(NULL) IS NULL AS c,
       llm_detokenize(NULL) IS NULL AS d;
SELECT llm_tokenize('hello', NULL) = llm_tokenize('hello') AS same;
SELECT llm_tokenize('hello', model => 'SmolLM2-135M-Instruct.Q4_1') = llm_tokenize('hello') AS same;

-- Text that looks like a special token is tokenized as text ...
SELECT llm_tokenize('<|im_start|>user') @> ARRAY[1] AS has_special_id;
-- ... while detokenizing a special token id shows its text.
SELECT llm_detokenize(ARRAY[1, 2]);

-- Round trips.
SELECT s, llm_detokenize(llm_tokenize(s)) = s AS round_trip, llm_token_count(s) AS n
FROM (VALUES ('Café déjà vu.'), ('multi  spaces   here'), (E'tab\tnew\nline\r\n'),
             ('日本語のテキスト'), ('👩‍👩‍👧‍👦 family'), ('SELECT * FROM t WHERE id = 42;'),
             ('{"a": [1, 2.5, null]}')) AS v(s);

-- A token that is half of a UTF-8 character decodes to U+FFFD, never to
-- invalid text.
SELECT cardinality(llm_tokenize('𓀀')) AS n_tokens,
       llm_detokenize((llm_tokenize('𓀀'))[1:1]) ~ '^�+$' AS replaced,
       llm_detokenize(llm_tokenize('𓀀')) = '𓀀' AS whole;

-- Long input.
SELECT llm_token_count(repeat('The quick brown fox jumps over the lazy dog. ', 2000));
