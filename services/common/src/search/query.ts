import { canonicalText, phraseOccursIn, phraseTokens } from './text';

/**
 * The keyword query language of the search API:
 *
 *   保本保息 理财            both phrases (AND is implicit; `AND` may be written)
 *   "iPhone 15" ETF基金      a quoted phrase keeps its spaces ("…" and “…” both work)
 *   保本 OR 保息 稳赚        (保本 OR 保息) AND 稳赚 — OR (or `|`) binds its neighbours
 *   理财 -保险 -"试用期"     exclusion: drop messages containing the phrase
 *
 * No parentheses. A term without any letter, digit or CJK character (only punctuation) cannot be
 * looked up and is ignored (and reported); a query with nothing left is rejected.
 */

export const MAX_QUERY_CHARS = 1000;
export const MAX_QUERY_TERMS = 20;
/** A phrase is looked up by at most this many of its tokens; the phrase check does the rest. */
export const MAX_LOOKUP_TOKENS_PER_PHRASE = 6;

export interface Phrase {
  /** as the user wrote it */
  text: string;
  canonical: string;
  /** tokens to look up in the index (a subset of the phrase's tokens, see selectLookupTokens) */
  tokens: string[];
}

export interface ParsedQuery {
  /** AND of clauses; a clause is an OR of phrases */
  clauses: Phrase[][];
  /** phrases whose presence excludes a message */
  exclude: Phrase[];
  /** terms that were dropped because they hold nothing searchable */
  ignored: string[];
}

export class QueryError extends Error {
  constructor(
    readonly code: 'empty_query' | 'query_too_long' | 'too_many_terms' | 'no_searchable_terms' | 'bad_query',
    message: string,
  ) {
    super(message);
  }
}

interface RawTerm {
  text: string;
  negated: boolean;
  operator?: 'or' | 'and';
}

const QUOTES: Record<string, string> = { '"': '"', '“': '”', '「': '」' };

function lex(query: string): RawTerm[] {
  const terms: RawTerm[] = [];
  let i = 0;
  const chars = [...query];
  const isSpace = (ch: string | undefined) => ch !== undefined && /\s/u.test(ch);
  while (i < chars.length) {
    while (isSpace(chars[i])) i += 1;
    if (i >= chars.length) break;
    let negated = false;
    if (chars[i] === '-' && chars[i + 1] !== undefined && !isSpace(chars[i + 1])) {
      negated = true;
      i += 1;
    }
    const open = chars[i]!;
    const close = QUOTES[open];
    let text = '';
    if (close !== undefined) {
      i += 1;
      while (i < chars.length && chars[i] !== close) text += chars[i++];
      i += 1; // closing quote (or end of input: an unclosed quote runs to the end)
    } else {
      while (i < chars.length && !isSpace(chars[i])) text += chars[i++];
      if (!negated && (text === 'OR' || text === '|')) {
        terms.push({ text, negated, operator: 'or' });
        continue;
      }
      if (!negated && text === 'AND') {
        terms.push({ text, negated, operator: 'and' });
        continue;
      }
    }
    terms.push({ text, negated });
  }
  return terms;
}

/**
 * Chooses which tokens of a phrase to look up: all of them when few; otherwise bigrams, words and
 * digit runs before single characters, spread over the phrase (first, last, evenly between).
 * Any subset is correct (every text containing the phrase has every token); fewer look-ups only
 * means more candidates for the phrase check.
 */
export function selectLookupTokens(tokens: string[], max = MAX_LOOKUP_TOKENS_PER_PHRASE): string[] {
  if (tokens.length <= max) return tokens;
  const strong = tokens.filter((t) => [...t].length > 1);
  const pool = strong.length >= max ? strong : tokens;
  const picked: string[] = [];
  for (let k = 0; k < max; k += 1) {
    const token = pool[Math.round((k * (pool.length - 1)) / (max - 1))]!;
    if (!picked.includes(token)) picked.push(token);
  }
  return picked;
}

function toPhrase(text: string): Phrase | undefined {
  const canonical = canonicalText(text);
  const tokens = phraseTokens(canonical);
  if (tokens.length === 0) return undefined;
  return { text, canonical, tokens: selectLookupTokens(tokens) };
}

export function parseQuery(query: string): ParsedQuery {
  if ([...query].length > MAX_QUERY_CHARS) {
    throw new QueryError('query_too_long', `the query is longer than ${MAX_QUERY_CHARS} characters`);
  }
  if (query.trim().length === 0) {
    throw new QueryError('empty_query', 'the query is empty; leave `q` out to list by filters only');
  }
  const raw = lex(query);
  const termCount = raw.filter((t) => !t.operator).length;
  if (termCount > MAX_QUERY_TERMS) {
    throw new QueryError('too_many_terms', `the query has ${termCount} terms; at most ${MAX_QUERY_TERMS}`);
  }
  const clauses: Phrase[][] = [];
  const exclude: Phrase[] = [];
  const ignored: string[] = [];
  let joinWithPrevious = false;
  for (const term of raw) {
    if (term.operator === 'or') {
      joinWithPrevious = clauses.length > 0;
      continue;
    }
    if (term.operator === 'and') {
      joinWithPrevious = false;
      continue;
    }
    const phrase = toPhrase(term.text);
    if (!phrase) {
      if (term.text.length > 0) ignored.push(term.text);
      continue;
    }
    if (term.negated) {
      exclude.push(phrase);
      joinWithPrevious = false;
      continue;
    }
    const previous = clauses[clauses.length - 1];
    if (joinWithPrevious && previous) previous.push(phrase);
    else clauses.push([phrase]);
    joinWithPrevious = false;
  }
  if (clauses.length === 0 && exclude.length === 0) {
    throw new QueryError(
      'no_searchable_terms',
      'the query has no letter, digit or Chinese character to search for (punctuation alone cannot be searched)',
    );
  }
  return { clauses, exclude, ignored };
}

/** The exact check of a candidate's text against the whole query (no false positives). */
export function textMatches(query: ParsedQuery, canonical: string): boolean {
  for (const clause of query.clauses) {
    if (!clause.some((phrase) => phraseOccursIn(canonical, phrase.canonical))) return false;
  }
  return !query.exclude.some((phrase) => phraseOccursIn(canonical, phrase.canonical));
}
