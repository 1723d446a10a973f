/*
 * Marks where the keywords of a search query occur in a (masked) text. The server has already
 * checked each hit exactly; this only finds the places to show. It follows the query language of
 * the search API (README "Search"): quoted phrases, OR / |, AND, -exclusion (never highlighted),
 * whitespace ignored inside CJK, case-insensitive, Latin words and digit runs whole.
 */

export interface TextSegment {
  text: string;
  match: boolean;
}

const QUOTES: Record<string, string> = { '"': '"', '“': '”', '「': '」' };
const WORD_CHAR = /[\p{L}\p{M}\p{Nd}]/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const SPACE = /\s/u;
/** no phrase pattern is built from more characters than this */
const MAX_PHRASE_CHARS = 200;

/** The positive phrases of a query, as written (exclusions and operators left out). */
export function positivePhrases(query: string): string[] {
  const chars = [...query];
  const phrases: string[] = [];
  let i = 0;
  const isSpace = (ch: string | undefined) => ch !== undefined && SPACE.test(ch);
  while (i < chars.length) {
    while (isSpace(chars[i])) i += 1;
    if (i >= chars.length) break;
    let negated = false;
    if (chars[i] === '-' && chars[i + 1] !== undefined && !isSpace(chars[i + 1])) {
      negated = true;
      i += 1;
    }
    const close = QUOTES[chars[i] ?? ''];
    let text = '';
    if (close !== undefined) {
      i += 1;
      while (i < chars.length && chars[i] !== close) text += chars[i++];
      i += 1;
    } else {
      while (i < chars.length && !isSpace(chars[i])) text += chars[i++];
      if (!negated && (text === 'OR' || text === '|' || text === 'AND')) continue;
    }
    if (!negated && [...text].some((ch) => WORD_CHAR.test(ch))) phrases.push(text);
  }
  return phrases;
}

function escapeRegExp(text: string): string {
  // only syntax characters: the `u` flag refuses needless escapes such as `\-`
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const CJK_CLASS = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
/** letters and marks that are not CJK (CJK next to a Latin word is a word boundary) */
const LETTER_NOT_CJK = `(?![${CJK_CLASS}])[\\p{L}\\p{M}]`;

/** A look-behind (`<`) or look-ahead that keeps a word or digit run at `ch` whole. */
function edgeGuard(ch: string, direction: '<' | ''): string {
  if (/\p{Nd}/u.test(ch)) return `(?${direction}!\\p{Nd})`;
  if (WORD_CHAR.test(ch) && !CJK.test(ch)) return `(?${direction}!${LETTER_NOT_CJK})`;
  return '';
}

/** A pattern for one phrase: NFKC + lower case, any whitespace between its characters. */
function phrasePattern(phrase: string): string | null {
  const chars = [...phrase.normalize('NFKC').toLowerCase()].filter((ch) => !SPACE.test(ch));
  if (chars.length === 0 || chars.length > MAX_PHRASE_CHARS) return null;
  const body = chars.map(escapeRegExp).join('\\s*');
  const first = chars[0]!;
  const last = chars[chars.length - 1]!;
  // Latin words and digit runs match whole (not inside a longer word or number), CJK anywhere
  const before = edgeGuard(first, '<');
  const after = edgeGuard(last, '');
  return `${before}${body}${after}`;
}

/** Builds a matcher for the query's phrases, or null when there is nothing to mark. */
export function highlighter(query: string | undefined): RegExp | null {
  if (!query) return null;
  const patterns = positivePhrases(query)
    .map(phrasePattern)
    .filter((p): p is string => p !== null)
    // longest first, so a longer phrase wins over one of its parts
    .sort((a, b) => b.length - a.length);
  if (patterns.length === 0) return null;
  try {
    return new RegExp(patterns.map((p) => `(?:${p})`).join('|'), 'giu');
  } catch {
    return null;
  }
}

/** Splits a text into marked and unmarked segments. */
export function splitHighlights(text: string, matcher: RegExp | null): TextSegment[] {
  if (!matcher || text.length === 0) return [{ text, match: false }];
  const segments: TextSegment[] = [];
  let last = 0;
  matcher.lastIndex = 0;
  for (const m of text.matchAll(matcher)) {
    if (m[0].length === 0) continue;
    const start = m.index;
    if (start > last) segments.push({ text: text.slice(last, start), match: false });
    segments.push({ text: m[0], match: true });
    last = start + m[0].length;
  }
  if (last < text.length) segments.push({ text: text.slice(last), match: false });
  return segments.length > 0 ? segments : [{ text, match: false }];
}
