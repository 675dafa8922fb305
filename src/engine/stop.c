/*
 * stop.c — Aho-Corasick matcher for stop strings over a byte stream.
 *
 * The automaton's state after each byte is the trie node for the longest
 * suffix of the stream that is a prefix of some stop string.  That gives
 * both answers the generation loop needs:
 *
 *  - held-back bytes = the depth of that node: an occurrence of a stop
 *    string still to complete must start inside that suffix, so every byte
 *    before it is safe;
 *  - a stop string ends here iff the node or one of its failure-link
 *    ancestors is a whole stop string; each node precomputes the longest
 *    such one, which is the one to cut.
 *
 * Children are sibling lists (the root has a 256-entry table, since almost
 * every byte passes through it).  Failure links make the work per byte
 * amortised constant times the branching, with no per-node 256-entry table
 * (which would cost 1 KiB per byte of stop strings).
 */
#include "stop.h"

#include <string.h>

typedef struct ac_node
{
	int32_t		first_child;	/* -1: none */
	int32_t		next_sibling;	/* -1: none */
	int32_t		fail;			/* longest proper suffix that is a node */
	int32_t		depth;			/* length of the node's string */
	int32_t		terminal;		/* stop index if the node's string is one */
	int32_t		match_stop;		/* longest stop that is a suffix, or -1 */
	int32_t		match_len;
	uint8_t		byte;			/* the edge from the parent */
} ac_node;

struct llm_stop
{
	ac_node    *nodes;
	int32_t		n_nodes;
	int32_t		root_next[256]; /* 0: stay at the root */

	/* stream state */
	int32_t		state;
	size_t		total_len;
	bool		stopped;
	bool		finished;
	int32_t		stop_index;
	size_t		stop_offset;
};

static int32_t
find_child(const llm_stop *m, int32_t node, uint8_t c)
{
	if (node == 0)
		return m->root_next[c] != 0 ? m->root_next[c] : -1;
	for (int32_t ch = m->nodes[node].first_child; ch >= 0; ch = m->nodes[ch].next_sibling)
		if (m->nodes[ch].byte == c)
			return ch;
	return -1;
}

/* The automaton's transition: follow failure links until c extends. */
static int32_t
next_state(const llm_stop *m, int32_t state, uint8_t c)
{
	for (;;)
	{
		int32_t		ch;

		if (state == 0)
			return m->root_next[c];
		ch = find_child(m, state, c);
		if (ch >= 0)
			return ch;
		state = m->nodes[state].fail;
	}
}

static int32_t
add_child(llm_stop *m, int32_t parent, uint8_t c)
{
	int32_t		id = m->n_nodes++;
	ac_node    *n = &m->nodes[id];

	n->first_child = -1;
	n->next_sibling = -1;
	n->fail = 0;
	n->depth = m->nodes[parent].depth + 1;
	n->terminal = -1;
	n->match_stop = -1;
	n->match_len = 0;
	n->byte = c;
	if (parent == 0)
		m->root_next[c] = id;
	else
	{
		n->next_sibling = m->nodes[parent].first_child;
		m->nodes[parent].first_child = id;
	}
	return id;
}

llm_stop *
llm_stop_create(const char *const *stops, const size_t *lens, int32_t n_stops,
				llm_error *err)
{
	llm_stop   *m;
	size_t		total = 0;
	int32_t    *queue = NULL;
	int32_t		q_head,
				q_tail;

	if (n_stops < 0 || (n_stops > 0 && stops == NULL))
	{
		llm_error_set(err, LLM_ERR_INVALID_ARG, "stop strings: bad list (%d strings)",
					  (int) n_stops);
		return NULL;
	}
	for (int32_t i = 0; i < n_stops; i++)
	{
		size_t		len;

		if (stops[i] == NULL)
		{
			if (lens != NULL && lens[i] == 0)
				continue;
			llm_error_set(err, LLM_ERR_INVALID_ARG, "stop string %d is NULL", (int) i);
			return NULL;
		}
		len = lens != NULL ? lens[i] : strlen(stops[i]);
		if (!llm_add_size(total, len, &total) || total > LLM_STOP_MAX_TOTAL_BYTES)
		{
			llm_error_set(err, LLM_ERR_LIMIT,
						  "the stop strings are too long: more than %d bytes in total",
						  LLM_STOP_MAX_TOTAL_BYTES);
			return NULL;
		}
	}

	m = llm_calloc(1, sizeof(*m));
	if (m == NULL)
		goto nomem;
	/* one node per byte at most, plus the root */
	m->nodes = llm_calloc(total + 1, sizeof(*m->nodes));
	queue = llm_calloc(total + 1, sizeof(*queue));
	if (m->nodes == NULL || queue == NULL)
		goto nomem;

	m->n_nodes = 1;
	m->nodes[0].first_child = -1;
	m->nodes[0].next_sibling = -1;
	m->nodes[0].terminal = -1;
	m->nodes[0].match_stop = -1;

	/* the trie */
	for (int32_t i = 0; i < n_stops; i++)
	{
		const uint8_t *s = (const uint8_t *) stops[i];
		size_t		len;
		int32_t		node = 0;

		if (s == NULL)
			continue;
		len = lens != NULL ? lens[i] : strlen(stops[i]);
		if (len == 0)
			continue;			/* an empty stop string would match nothing useful */
		for (size_t j = 0; j < len; j++)
		{
			int32_t		ch = find_child(m, node, s[j]);

			node = ch >= 0 ? ch : add_child(m, node, s[j]);
		}
		if (m->nodes[node].terminal < 0)
			m->nodes[node].terminal = i;	/* the first of equal strings */
	}

	/*
	 * Failure links and matches, breadth first so a node's failure target
	 * (shallower) is done before it.
	 */
	q_head = q_tail = 0;
	for (int c = 0; c < 256; c++)
		if (m->root_next[c] != 0)
			queue[q_tail++] = m->root_next[c];
	while (q_head < q_tail)
	{
		int32_t		v = queue[q_head++];
		ac_node    *n = &m->nodes[v];

		if (n->terminal >= 0)
		{
			n->match_stop = n->terminal;
			n->match_len = n->depth;
		}
		else
		{
			n->match_stop = m->nodes[n->fail].match_stop;
			n->match_len = m->nodes[n->fail].match_len;
		}
		for (int32_t ch = n->first_child; ch >= 0; ch = m->nodes[ch].next_sibling)
		{
			m->nodes[ch].fail = next_state(m, n->fail, m->nodes[ch].byte);
			queue[q_tail++] = ch;
		}
	}
	/* the root's children fail to the root: calloc already made fail 0 */

	llm_free(queue);
	llm_stop_reset(m);
	return m;

nomem:
	llm_free(queue);
	llm_stop_free(m);
	llm_error_set(err, LLM_ERR_NOMEM, "out of memory building the stop-string matcher");
	return NULL;
}

void
llm_stop_free(llm_stop *m)
{
	if (m == NULL)
		return;
	llm_free(m->nodes);
	llm_free(m);
}

void
llm_stop_reset(llm_stop *m)
{
	if (m == NULL)
		return;
	m->state = 0;
	m->total_len = 0;
	m->stopped = false;
	m->finished = false;
	m->stop_index = -1;
	m->stop_offset = 0;
}

void
llm_stop_state(const llm_stop *m, llm_stop_result *res)
{
	if (res == NULL)
		return;
	res->stopped = m->stopped;
	res->stop_index = m->stop_index;
	res->stop_offset = m->stop_offset;
	res->total_len = m->total_len;
	if (m->stopped)
		res->safe_len = m->stop_offset;
	else if (m->finished)
		res->safe_len = m->total_len;
	else
		res->safe_len = m->total_len - (size_t) m->nodes[m->state].depth;
}

bool
llm_stop_feed(llm_stop *m, const char *bytes, size_t len, llm_stop_result *res)
{
	const uint8_t *b = (const uint8_t *) bytes;

	if (!m->stopped && !m->finished)
	{
		for (size_t i = 0; i < len; i++)
		{
			const ac_node *n;

			m->state = next_state(m, m->state, b[i]);
			n = &m->nodes[m->state];
			if (n->match_stop >= 0)
			{
				m->stopped = true;
				m->stop_index = n->match_stop;
				m->total_len += i + 1;
				m->stop_offset = m->total_len - (size_t) n->match_len;
				break;
			}
		}
		if (!m->stopped)
			m->total_len += len;
	}
	llm_stop_state(m, res);
	return m->stopped;
}

void
llm_stop_finish(llm_stop *m, llm_stop_result *res)
{
	m->finished = true;
	llm_stop_state(m, res);
}

/* ---------------------------------------------------------------------------
 * UTF-8 hold-back.
 */

/* Bytes in a sequence starting with lead; 0 if lead cannot start one. */
static int
utf8_sequence_len(uint8_t lead)
{
	if (lead >= 0xC2 && lead <= 0xDF)
		return 2;
	if (lead >= 0xE0 && lead <= 0xEF)
		return 3;
	if (lead >= 0xF0 && lead <= 0xF4)
		return 4;
	return 0;
}

/* The second byte's range is narrower after some leads (RFC 3629). */
static bool
utf8_second_ok(uint8_t lead, uint8_t second)
{
	switch (lead)
	{
		case 0xE0:
			return second >= 0xA0 && second <= 0xBF;
		case 0xED:
			return second >= 0x80 && second <= 0x9F;
		case 0xF0:
			return second >= 0x90 && second <= 0xBF;
		case 0xF4:
			return second >= 0x80 && second <= 0x8F;
		default:
			return (second & 0xC0) == 0x80;
	}
}

size_t
llm_utf8_complete_len(const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *) s;
	size_t		lead_pos = len;
	int			n_cont = 0;
	int			need;

	/* back over up to 3 continuation bytes to the lead */
	while (lead_pos > 0 && n_cont < 3 && (u[lead_pos - 1] & 0xC0) == 0x80)
	{
		lead_pos--;
		n_cont++;
	}
	if (lead_pos == 0)
		return len;				/* only continuation bytes: stray */
	lead_pos--;
	need = utf8_sequence_len(u[lead_pos]);
	if (need == 0 || 1 + n_cont >= need)
		return len;				/* complete, ASCII, or never valid */
	if (n_cont >= 1 && !utf8_second_ok(u[lead_pos], u[lead_pos + 1]))
		return len;				/* can never be completed */
	return lead_pos;
}
