/**
 * Text normalisation, tokenisation and exact phrase matching for keyword search over sealed
 * messages. The archiver indexes with `indexTokens`, the portal looks up `phraseIndexTokens` and
 * verifies candidates with `phraseOccursIn`; all three go through `canonicalText`, so the index and
 * the verification can never disagree about what a phrase is.
 *
 * Semantics (documented for users in the README, "Search"):
 * - NFKC folds full-width forms (ＥＴＦ１５ → etf15, full-width comma → ",") and compatibility
 *   characters; Latin (and other cased scripts) is lower-cased. Simplified and traditional Chinese
 *   are NOT unified.
 * - Whitespace is insignificant except between two letters or two digits, where it separates words
 *   ("hello world" ≠ "helloworld", but "iPhone 15" = "iPhone15" and "保 本" = "保本").
 * - Punctuation and symbols are kept: a phrase must match them as written (after NFKC), so the
 *   query 保本保息 does NOT match the text "保本，保息", while the query "保本，保息" does (and so does
 *   "保本,保息", since NFKC turns the full-width comma into ",").
 * - CJK (Han, kana, Hangul) matches anywhere, character by character; Latin words and digit runs
 *   match whole words only: "etf" matches "ETF基金" and "an etf fund" but not "netflix", "15" does
 *   not match "150".
 *
 * Tokens: every CJK character (unigram) and every pair of adjacent CJK characters (bigram), every
 * lower-cased letter run (word) and every digit run, each cut to MAX_TOKEN_CHARS characters.
 * Punctuation breaks runs: "保本，保息" gives 保本 and 保息, never 本保.
 */

export const MAX_TOKEN_CHARS = 64;

const CharClass = { Space: 0, Cjk: 1, Letter: 2, Digit: 3, Other: 4 } as const;
type CharClass = (typeof CharClass)[keyof typeof CharClass];

const HAN_OR_KANA_OR_HANGUL = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
const DIGIT = /\p{Nd}/u;
const SPACE = /\s/u;

function classify(ch: string): CharClass {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x80) {
    if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a)) return CharClass.Letter;
    if (cp >= 0x30 && cp <= 0x39) return CharClass.Digit;
    if (cp === 0x20 || (cp >= 0x09 && cp <= 0x0d)) return CharClass.Space;
    return CharClass.Other;
  }
  // the common CJK blocks first: unified ideographs, extension A
  if ((cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf)) return CharClass.Cjk;
  if (HAN_OR_KANA_OR_HANGUL.test(ch)) return CharClass.Cjk;
  if (LETTER_OR_MARK.test(ch)) return CharClass.Letter;
  if (DIGIT.test(ch)) return CharClass.Digit;
  if (SPACE.test(ch)) return CharClass.Space;
  return CharClass.Other;
}

/**
 * The canonical form that both the index and the phrase check work on: NFKC, lower case, and
 * whitespace dropped except a single space between two letters or two digits.
 */
export function canonicalText(text: string): string {
  const folded = text.normalize('NFKC').toLowerCase();
  let out = '';
  let previous: CharClass = CharClass.Space;
  let pendingSpace = false;
  for (const ch of folded) {
    const cls = classify(ch);
    if (cls === CharClass.Space) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace && cls === previous && (cls === CharClass.Letter || cls === CharClass.Digit)) out += ' ';
    pendingSpace = false;
    out += ch;
    previous = cls;
  }
  return out;
}

interface Run {
  cls: CharClass;
  chars: string[];
}

/** Maximal runs of one token class in canonical text (spaces and punctuation end a run). */
function runsOf(canonical: string): Run[] {
  const runs: Run[] = [];
  let current: Run | undefined;
  for (const ch of canonical) {
    const cls = classify(ch);
    if (cls === CharClass.Space || cls === CharClass.Other) {
      current = undefined;
      continue;
    }
    if (!current || current.cls !== cls) {
      current = { cls, chars: [] };
      runs.push(current);
    }
    current.chars.push(ch);
  }
  return runs;
}

const cut = (chars: string[]) => chars.slice(0, MAX_TOKEN_CHARS).join('');

/** Distinct index tokens of a text (unigrams + bigrams of CJK, words, digit runs). */
export function indexTokens(text: string): string[] {
  const tokens = new Set<string>();
  for (const run of runsOf(canonicalText(text))) {
    if (run.cls === CharClass.Cjk) {
      const { chars } = run;
      for (let i = 0; i < chars.length; i += 1) {
        tokens.add(chars[i]!);
        if (i + 1 < chars.length) tokens.add(chars[i]! + chars[i + 1]!);
      }
    } else {
      tokens.add(cut(run.chars));
    }
  }
  return [...tokens];
}

/**
 * Tokens every text containing the (canonical) phrase is certain to have: bigrams of each CJK run
 * of two or more characters, the character of a one-character run, words and digit runs. In order
 * of appearance, without repeats.
 */
export function phraseTokens(canonicalPhrase: string): string[] {
  const tokens: string[] = [];
  const add = (token: string) => {
    if (!tokens.includes(token)) tokens.push(token);
  };
  for (const run of runsOf(canonicalPhrase)) {
    if (run.cls === CharClass.Cjk) {
      if (run.chars.length === 1) add(run.chars[0]!);
      for (let i = 0; i + 1 < run.chars.length; i += 1) add(run.chars[i]! + run.chars[i + 1]!);
    } else {
      add(cut(run.chars));
    }
  }
  return tokens;
}

function boundaryClass(text: string, index: number): CharClass {
  const cp = text.codePointAt(index);
  return cp === undefined ? CharClass.Space : classify(String.fromCodePoint(cp));
}

/** The class of the code point that ends just before `index` (handles surrogate pairs). */
function classBefore(text: string, index: number): CharClass {
  if (index <= 0) return CharClass.Space;
  const low = text.charCodeAt(index - 1);
  const start = low >= 0xdc00 && low <= 0xdfff && index >= 2 ? index - 2 : index - 1;
  return boundaryClass(text, start);
}

/**
 * Exact phrase check on canonical forms: `canonicalPhrase` occurs in `canonicalTextValue`, and a
 * phrase that starts (ends) with a letter or digit does not continue a word or number of the text.
 */
export function phraseOccursIn(canonicalTextValue: string, canonicalPhrase: string): boolean {
  if (canonicalPhrase.length === 0) return false;
  const first = boundaryClass(canonicalPhrase, 0);
  const last = classBefore(canonicalPhrase, canonicalPhrase.length);
  const checkStart = first === CharClass.Letter || first === CharClass.Digit;
  const checkEnd = last === CharClass.Letter || last === CharClass.Digit;
  let from = 0;
  for (;;) {
    const at = canonicalTextValue.indexOf(canonicalPhrase, from);
    if (at < 0) return false;
    const end = at + canonicalPhrase.length;
    const startOk = !checkStart || classBefore(canonicalTextValue, at) !== first;
    const endOk = !checkEnd || boundaryClass(canonicalTextValue, end) !== last;
    if (startOk && endOk) return true;
    from = at + 1;
  }
}
