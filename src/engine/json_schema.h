/*
 * json_schema.h — a JSON Schema compiled into the form the constrained
 * decoder walks (src/engine/json_matcher.c).
 *
 * The compiler (json_schema.c) reads the schema with cJSON, resolves local
 * $ref, merges allOf, turns enum/const into literal texts and pattern/format
 * into automata (regex.h), and checks that every keyword is one it
 * enforces.  The result is a graph of nodes in one array, referenced by
 * index, so recursive schemas are cycles in the graph.
 *
 * What the generator produces is a SUBSET of what the schema accepts,
 * chosen so that a generated document always validates and generation
 * cannot run away:
 *   - objects contain only declared properties, in declaration order,
 *     unless additionalProperties is given explicitly (true or a schema),
 *     or minProperties needs more keys than are declared: then other keys
 *     may follow the declared ones (never next to patternProperties, whose
 *     patterns name properties: there minProperties is met with properties
 *     named by the patterns' shortest strings);
 *   - oneOf: a branch may be narrowed so that its documents match no other
 *     branch (it does not write a property another branch requires);
 *     optional properties that dependencies / "not": {"required": ...}
 *     would constrain are not written;
 *   - strings without maxLength are capped at LLM_SCHEMA_DEFAULT_MAX_CHARS;
 *   - numbers have no exponent and at most LLM_SCHEMA_MAX_FRACTION_DIGITS
 *     fraction digits; integers have no leading zeros and no "-0";
 *   - whitespace between tokens is bounded (json_matcher.h).
 *
 * Errors (llm_error message names the keyword and the JSON pointer of the
 * schema location as a URI fragment, e.g.
 * 'keyword "uniqueItems" at #/properties/tags is not supported'):
 *   LLM_ERR_UNSUPPORTED  a JSON Schema validation keyword we do not enforce
 *                        (uniqueItems, not, if/then/else, multipleOf,
 *                        contains, unevaluated*, ...) where it can matter
 *                        (uniqueItems on a value that cannot be an array
 *                        is inert), a regex construct we do not support, a
 *                        format we do not enforce on a value that can be a
 *                        string, a oneOf whose branches may overlap, a
 *                        remote $ref;
 *   LLM_ERR_INVALID_ARG  malformed: not JSON, not an object/boolean, a keyword
 *                        with the wrong type ({"type": 12}), a $ref that does
 *                        not resolve, an invalid regex, a schema no document
 *                        satisfies.
 * Annotations (title, description, examples, default, $schema, $id,
 * $comment, deprecated, readOnly, writeOnly, contentMediaType, ...) and
 * keywords outside the JSON Schema vocabularies (x-..., vendor keywords,
 * Snowplow's "self") are ignored, as the specification says.
 */
#ifndef LLM_ENGINE_JSON_SCHEMA_H
#define LLM_ENGINE_JSON_SCHEMA_H

#include "common.h"
#include "regex.h"

#define LLM_SCHEMA_DEFAULT_MAX_CHARS 1024	/* strings without maxLength */
#define LLM_SCHEMA_MAX_FRACTION_DIGITS 12
#define LLM_SCHEMA_MAX_INT_DIGITS 15	/* beyond: only if the bounds need it */
#define LLM_SCHEMA_MAX_NODES 100000
#define LLM_SCHEMA_MAX_DEPTH 64		/* nesting of the schema itself */

/* JSON types as a bit set.  "number" is INTEGER|FRACTION. */
enum
{
	LLM_JT_NULL = 1 << 0,
	LLM_JT_BOOLEAN = 1 << 1,
	LLM_JT_INTEGER = 1 << 2,	/* numbers written without fraction */
	LLM_JT_FRACTION = 1 << 3,	/* numbers written with a fraction */
	LLM_JT_STRING = 1 << 4,
	LLM_JT_ARRAY = 1 << 5,
	LLM_JT_OBJECT = 1 << 6,
	LLM_JT_ANY = (1 << 7) - 1
};

typedef enum llm_schema_node_kind
{
	LLM_SN_NEVER,				/* no value (false schema, empty intersection) */
	LLM_SN_TYPED,				/* a value of one of `types`, with constraints */
	LLM_SN_ANYOF,				/* a value of any child (anyOf, disjoint oneOf) */
	LLM_SN_LITERALS				/* exactly one of `literals` (enum, const) */
} llm_schema_node_kind;

typedef struct llm_schema_prop
{
	char	   *name;			/* the key, decoded (UTF-8) */
	size_t		name_len;
	char	   *key_json;		/* the key as written: "\"na\\\"me\"" */
	size_t		key_json_len;
	int32_t		node;			/* schema of the value */
	bool		required;
} llm_schema_prop;

typedef struct llm_schema_literal
{
	char	   *text;			/* compact JSON text (or the raw label of a choice) */
	size_t		len;
} llm_schema_literal;

typedef struct llm_schema_node
{
	llm_schema_node_kind kind;

	/* LLM_SN_ANYOF */
	int32_t		n_children;
	int32_t    *children;

	/* LLM_SN_LITERALS: all distinct; none is a prefix of another unless the
	 * matcher copes (it does: it ends a literal where one can end) */
	int32_t		n_literals;
	llm_schema_literal *literals;

	/* LLM_SN_TYPED */
	uint32_t	types;			/* LLM_JT_* bits, never 0 */

	/* strings: lengths in characters; max_chars is always finite */
	int32_t		min_chars;
	int32_t		max_chars;
	llm_regex  *regex;			/* NULL: any string; owned by the schema (nodes
								 * with the same patterns share one); it never
								 * accepts a control character U+0000..U+001F */

	/* numbers (INTEGER and FRACTION); bounds as written, exact for |x| < 2^53
	 * (a node whose only number type is INTEGER has them as inclusive
	 * integers; FRACTION without INTEGER means no integer is in bounds) */
	bool		has_min;
	bool		min_exclusive;
	double		min;
	bool		has_max;
	bool		max_exclusive;
	double		max;

	/* arrays: element i < n_prefix has schema prefix[i]; later ones `items`
	 * (-1: no more elements allowed) */
	int32_t		n_prefix;
	int32_t    *prefix;
	int32_t		items;
	int32_t		min_items;
	int32_t		max_items;		/* INT32_MAX: unbounded */

	/* objects: properties in declaration order; `additional` is the schema
	 * of other keys (-1: none are generated).  Other keys never repeat the
	 * name of a property in props (nor each other). */
	int32_t		n_props;
	llm_schema_prop *props;
	int32_t		additional;
	int32_t		min_props;
	int32_t		max_props;		/* INT32_MAX: unbounded */

	/* Computed after compiling: bytes of the shortest document of this node,
	 * INT64_MAX when none exists (the node is then never entered).  In a
	 * compiled schema every node reachable from the root has a finite
	 * min_bytes: options without a document (types, optional properties,
	 * anyOf children, items) are removed, so no NEVER node is reachable.
	 * An ANYOF node's first child is one as short as the node. */
	int64_t		min_bytes;
} llm_schema_node;

typedef struct llm_schema
{
	int32_t		n_nodes;
	llm_schema_node *nodes;
	int32_t		root;
	bool		raw_root;		/* a choice of raw texts, not a JSON document */
} llm_schema;

/* Compile the schema text json[0..len). */
llm_status	llm_schema_compile(const char *json, size_t len,
							   llm_schema **out, llm_error *err);

/*
 * A "schema" whose documents are exactly one of n raw byte strings (not
 * JSON): llm_classify's labels.  Empty or duplicate labels are
 * LLM_ERR_INVALID_ARG.
 */
llm_status	llm_schema_compile_choice(const char *const *labels, const size_t *lens,
									  int32_t n, llm_schema **out, llm_error *err);

void		llm_schema_free(llm_schema *s);	/* NULL is fine */

/*
 * Append the shortest document of node (min_bytes bytes) to the growing
 * buffer *buf (*len used, *cap allocated; llm_realloc'd).  The matcher uses
 * it to close a document when max_tokens runs out.  LLM_ERR_INVALID_ARG for
 * a node with no document.
 */
llm_status	llm_schema_write_shortest(const llm_schema *s, int32_t node,
									  char **buf, size_t *len, size_t *cap,
									  llm_error *err);

#endif							/* LLM_ENGINE_JSON_SCHEMA_H */
