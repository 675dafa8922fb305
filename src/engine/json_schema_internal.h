/*
 * json_schema_internal.h — what the parts of the schema compiler share:
 *   json_schema.c           the API, the compile driver, pruning and
 *                           renumbering the graph;
 *   json_schema_read.c      reading the document: locations, $ref, keywords,
 *                           regex caches;
 *   json_schema_build.c     building nodes from conjs (merging allOf,
 *                           distributing anyOf/oneOf, literals);
 *   json_schema_oneof.c     proving oneOf branches disjoint;
 *   json_schema_validate.c  checking a JSON value against the schema as
 *                           written, text utilities, the map;
 *   json_schema_shortest.c  shortest documents and min_bytes.
 * Not for use outside those files.
 *
 * Vocabulary used in the comments:
 *   info   one schema location of the document (a cJSON object or boolean),
 *          with its keywords read and checked once;
 *   atom   an info used as a conjunct, with a mask of the disjunctions
 *          (anyOf / oneOf) of that location already resolved by choosing a
 *          branch;
 *   conj   a set of atoms all of which a value must satisfy: allOf and $ref
 *          are flattened into it, so every node is built from one conj.
 * "True semantics" is what a JSON Schema validator accepts; "generated" is
 * the subset the decoder produces (json_schema.h).
 */
#ifndef LLM_ENGINE_JSON_SCHEMA_INTERNAL_H
#define LLM_ENGINE_JSON_SCHEMA_INTERNAL_H

#include <cjson/cJSON.h>

#include "json_schema.h"

#define JS_INF INT64_MAX
#define JS_NUMBER_TYPES (LLM_JT_INTEGER | LLM_JT_FRACTION)
#define JS_TWO53 9007199254740992.0	/* 2^53: doubles are exact integers below */

/* how deep the JSON text of a schema may nest (2 levels per schema level) */
#define JS_MAX_JSON_DEPTH (2 * LLM_SCHEMA_MAX_DEPTH + 2)
/* atoms in one conj, and the branches one node may distribute into */
#define JS_MAX_CONJ 512
#define JS_MAX_DISTRIBUTION 1024
/* work bounds of the value checker and of the oneOf disjointness proofs */
#define JS_VALIDATE_BUDGET 200000
#define JS_DISJOINT_BUDGET 20000
#define JS_DISJOINT_DEPTH 12

enum
{
	JS_MASK_ANYOF = 1,			/* the atom's anyOf is resolved */
	JS_MASK_ONEOF = 2			/* the atom's oneOf is resolved */
};

typedef struct js_atom
{
	int32_t		info;
	uint8_t		mask;
} js_atom;

/* numeric bounds of one location or of a merge */
typedef struct js_bounds
{
	bool		has_min;
	bool		min_excl;
	double		min;
	bool		has_max;
	bool		max_excl;
	double		max;
} js_bounds;

/* a validation keyword we do not generate for, and the types it constrains */
typedef struct js_unsup
{
	const char *keyword;
	uint32_t	types;
} js_unsup;

#define JS_MAX_UNSUP 12

/* a map from byte strings to int32 (open addressing) */
typedef struct js_map
{
	char	  **keys;
	size_t	   *key_lens;
	int32_t    *values;
	size_t		cap;			/* power of two, or 0 */
	size_t		count;
} js_map;

typedef struct js_info
{
	const cJSON *json;
	char	   *path;			/* JSON pointer as "#/a/b" */
	int32_t		resource;		/* info of the enclosing $id resource root */
	char	   *base;			/* resource roots: base URI (may be "") */
	bool		in_schema;		/* reached as a schema by the document walk */
	bool		parsed;

	bool		is_bool;
	bool		bool_value;
	/* a keyword other than allOf / anyOf / oneOf / $ref constrains values */
	bool		has_constraints;
	bool		only_type;		/* "type" is its only constraint */
	bool		only_required;	/* "required" is its only constraint */
	bool		not_number;		/* "not" removed a number type: generate none */
	const cJSON *not_required;	/* "not": {"required": [...]} */

	uint32_t	types;			/* "type"; LLM_JT_ANY when absent */
	const cJSON *enum_values;	/* "enum" array */
	const cJSON *const_value;	/* "const" */

	const cJSON *properties;
	const cJSON *pattern_props;
	const cJSON *additional;	/* additionalProperties schema */
	const cJSON *required;		/* array of strings */
	bool		required_bool;	/* draft-03 "required": true */
	int32_t		min_props;
	int32_t		max_props;
	const cJSON *dependencies;	/* "dependencies" / "dependentRequired" */
	const cJSON *dependent_required;
	const cJSON *dependent_schemas;
	const cJSON *property_names;

	const cJSON *prefix;		/* prefixItems, or items given as an array */
	const cJSON *items;			/* items given as a schema */
	const cJSON *additional_items;	/* used with items as an array */
	bool		prefix_from_items;
	int32_t		min_items;
	int32_t		max_items;
	bool		unique_items;
	const cJSON *contains;
	int32_t		min_contains;
	int32_t		max_contains;

	int32_t		min_len;
	int32_t		max_len;		/* -1: none */
	const char *pattern;
	const char *format;
	const char *format_pattern; /* built-in pattern, NULL if unknown */
	bool		format_numeric; /* int32/int64/float/double */

	js_bounds	bounds;
	bool		has_multiple_of;
	double		multiple_of;

	const cJSON *all_of;
	const cJSON *any_of;
	const cJSON *one_of;
	const cJSON *not_schema;
	const cJSON *if_schema;
	const cJSON *then_schema;
	const cJSON *else_schema;
	int32_t		ref;			/* info of the $ref target, -1 none */

	js_unsup	unsup[JS_MAX_UNSUP];
	int			n_unsup;

	/* "properties" by name, built on first lookup when it is large */
	js_map		prop_index;
	const cJSON **prop_items;
	bool		prop_indexed;
} js_info;


/* compiler-only data kept per node */
typedef struct js_extra
{
	js_atom    *conj;			/* the conj the node was built from */
	int32_t		n_conj;
	uint32_t	true_types;		/* types a validator may accept */
	bool		max_chars_explicit;
	bool		closed;			/* additionalProperties false, no patterns */
	bool		any_object;		/* every object validates (no object keyword) */
	bool		any_array;		/* every array validates (no array keyword) */
	bool		any_number;		/* every number validates (no bounds, multipleOf) */
	js_bounds	true_bounds;	/* numeric bounds as a validator applies them */
	bool		built;
	int32_t		witness;		/* ANYOF: child giving min_bytes */
	int32_t		oneof_info;		/* ANYOF from a oneOf: its location, else -1 */
	int64_t		int_cost;		/* bytes of the shortest integer, or JS_INF */
	int64_t		frac_cost;
	int64_t		str_cost;
	/* LITERALS (or NEVER from an empty enum): the enum array or const value
	 * the literals came from, and the cJSON value of each kept literal */
	const cJSON *lit_source;
	bool		lit_is_const;
	const cJSON **lit_json;
	/* a copy made to generate less (oneOf exclusion): the node it copies,
	 * whose fields still describe what a validator accepts */
	int32_t		clone_of;
	/* optional properties left out of props on purpose (dependencies):
	 * a validator still accepts them */
	const char **excluded;
	int32_t		n_excluded;
} js_extra;

typedef struct js_ctx
{
	llm_error  *err;
	cJSON	   *doc;
	bool		legacy;			/* draft-04 .. 2019-09: items arrays etc. */
	bool		draft4;			/* draft-03/04: "id" names resources */

	js_info    *infos;
	int32_t		n_infos;
	int32_t		cap_infos;
	js_map		info_by_ptr;

	/* "$id" resources and anchors: key text -> info */
	js_map		ids;

	llm_schema_node *nodes;
	js_extra   *extra;
	int32_t		n_nodes;
	int32_t		cap_nodes;
	js_map		conj_memo;
	int32_t		never_node;

	/* regexes of nodes (shared by nodes with the same patterns) */
	js_map		node_regex_map;
	llm_regex **node_regexes;
	int32_t		n_node_regexes;
	int32_t		cap_node_regexes;
	/* regexes for checking values (no exclusions), by pattern and mode */
	js_map		check_regex_map;
	llm_regex **check_regexes;
	int32_t		n_check_regexes;
	int32_t		cap_check_regexes;

	/* value checker */
	int64_t		validate_steps;
	const char *unknown_keyword;	/* strict check met a keyword it cannot decide */
	int32_t		unknown_info;

	int64_t		disjoint_steps;
} js_ctx;

/* patterns of one string node, with where each comes from (for errors) */
typedef struct js_pattern_list
{
	const char **pats;
	size_t	   *lens;
	llm_regex_mode *modes;
	int32_t    *infos;
	const char **keywords;
	int			n;
	int			cap;
} js_pattern_list;

typedef struct js_conj
{
	js_atom    *a;
	int32_t		n;
	int32_t		cap;
} js_conj;

/* ---- json_schema_read.c ---- */

/* "keyword \"kw\" at <path of info>: <fmt>", or "... is not supported"
 * when fmt is NULL; returns st */
llm_status	js_kw_error(js_ctx *ctx, llm_status st, int32_t info, const char *kw,
						const char *fmt,...) __attribute__((format(printf, 5, 6)));
llm_status	js_nomem(js_ctx *ctx);
llm_status	js_read_document(js_ctx *ctx);
llm_status	js_info_get(js_ctx *ctx, const cJSON *json, int32_t *out);
llm_status	js_info_parse(js_ctx *ctx, int32_t info);
bool		js_is_schema(const cJSON *v);
/* *out: the schema of property name in info's "properties" (the first if
 * repeated), or NULL */
llm_status	js_info_property(js_ctx *ctx, int32_t info, const char *name,
							 const cJSON **out);
void		js_tighten_min(js_bounds *b, double v, bool excl);
void		js_tighten_max(js_bounds *b, double v, bool excl);
bool		js_name_certain(const char *s);
llm_status	js_check_regex(js_ctx *ctx, const char *pattern, llm_regex_mode mode,
						   int32_t info, const char *keyword, llm_regex **out);
llm_status	js_pattern_add(js_ctx *ctx, js_pattern_list *pl, const char *pat,
						   llm_regex_mode mode, int32_t info, const char *keyword);
void		js_pattern_list_free(js_pattern_list *pl);
llm_status	js_node_regex(js_ctx *ctx, const js_pattern_list *pl, llm_regex **out);

/* ---- json_schema_build.c ---- */
llm_status	js_conj_add(js_ctx *ctx, js_conj *c, int32_t info, uint8_t mask);
/* the node of a conj (closed and memoized; built later by js_build_node) */
llm_status	js_node_for_conj(js_ctx *ctx, js_conj *c, int32_t *out);
llm_status	js_new_node(js_ctx *ctx, int32_t *out);
llm_status	js_build_node(js_ctx *ctx, int32_t idx);

/* ---- json_schema_oneof.c ---- */
bool		js_feasible(js_ctx *ctx, int32_t node);
/* narrow oneOf branches where that is sound, then prove every oneOf */
llm_status	js_check_oneofs(js_ctx *ctx);

/* ---- json_schema_validate.c ---- */

/*
 * Does value v satisfy the conj?  strict: only when certainly (unknown
 * answers "no", and ctx->unknown_keyword says why); !strict: unless certainly
 * not (unknown answers "yes").  Returns LLM_OK with *ok set, or an error
 * (a keyword of the schema is malformed).
 */
llm_status	js_validate_conj(js_ctx *ctx, const cJSON *v, const js_atom *conj,
							 int32_t n, bool strict, bool *ok);
bool		js_json_equal(const cJSON *a, const cJSON *b, int depth);
/* compact JSON text of v appended to a buffer (llm_realloc'd) */
llm_status	js_print_value(const cJSON *v, char **buf, size_t *len, size_t *cap,
						   int depth);
llm_status	js_buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n);
/* s as a JSON string literal (with quotes) */
llm_status	js_print_string(const char *s, size_t n, char **buf, size_t *len,
							size_t *cap);
size_t		js_utf8_chars(const char *s, size_t n);
bool		js_utf8_valid(const char *s, size_t n);

/* map */
void		js_map_free(js_map *m);
bool		js_map_get(const js_map *m, const void *key, size_t len, int32_t *value);
llm_status	js_map_put(js_map *m, const void *key, size_t len, int32_t value);

/* ---- json_schema_shortest.c ---- */

/* shortest number text of a TYPED node's numeric part: type is
 * LLM_JT_INTEGER or LLM_JT_FRACTION; false if none */
bool		js_shortest_number(const llm_schema_node *n, uint32_t type,
							   char *buf, size_t cap, size_t *len);
/* shortest string (JSON text with quotes) of a TYPED node; JS_INF if none */
int64_t		js_string_cost(const llm_schema_node *n);
/* compute min_bytes of every node; fills extra->witness when extra given */
void		js_compute_min_bytes(llm_schema_node *nodes, js_extra *extra,
								 int32_t n_nodes);
int64_t		js_type_cost(const llm_schema_node *nodes, const js_extra *extra,
						 int32_t node, uint32_t type);

#endif							/* LLM_ENGINE_JSON_SCHEMA_INTERNAL_H */
