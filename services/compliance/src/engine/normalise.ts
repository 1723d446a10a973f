import * as OpenCC from 'opencc-js/t2cn';
import { CHAR_HOMOPHONES } from './variants';

/*
 * One normalised view of a text, with a map back to the original: the automaton, the regexes and
 * the negation check all work on the view; hits are reported in the original's UTF-16 offsets.
 *
 * Per UTF-16 code unit, one look-up in a 64 Ki table built once at load: NFKC (full width → half
 * width, ①→1, ﬀ stays), lower case, traditional → simplified (opencc-js, applied character by
 * character: the same table serves text and terms, so both sides agree), Chinese numerals → digits
 * (一三八 → 138, 壹贰 → 12), and optionally the homophone table (薇→微). Spaces, punctuation,
 * symbols, emoji, control and format characters are noise: dropped, so 加 微 信, 加-微-信 and
 * 加😀微😀信 all read 加微信. A long run of noise (more than MAX_NOISE_RUN code units) is a break
 * that no pattern spans, so words far apart do not join.
 */

/** Table value of a noise character. */
const NOISE = 0;
/** Table value of a code unit decided in context: surrogates (emoji or astral letters) and '.'. */
const CONTEXTUAL = 1;
/** Written into the view where a long run of noise was: matches nothing. */
export const BREAK = 0xffff;
export const MAX_NOISE_RUN = 8;

const DOT = 0x2e;
const isAsciiDigit = (code: number) => code >= 0x30 && code <= 0x39;
export const isAsciiAlnum = (code: number) =>
  (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);

const CHINESE_DIGITS: Readonly<Record<string, string>> = {
  〇: '0',
  零: '0',
  一: '1',
  二: '2',
  三: '3',
  四: '4',
  五: '5',
  六: '6',
  七: '7',
  八: '8',
  九: '9',
  壹: '1',
  贰: '2',
  叁: '3',
  肆: '4',
  伍: '5',
  陆: '6',
  柒: '7',
  捌: '8',
  玖: '9',
};

/** Significant characters: letters and digits of any script, and '%' (年化 12%). */
const SIGNIFICANT = /^[\p{L}\p{N}%]$/u;

/** Traditional → simplified for every CJK character opencc-js knows, one character at a time. */
function traditionalToSimplified(): Map<number, number> {
  const convert = OpenCC.Converter({ from: 'tw', to: 'cn' });
  const ranges: [number, number][] = [
    [0x3400, 0x4dbf],
    [0x4e00, 0x9fff],
    [0xf900, 0xfaff],
  ];
  const map = new Map<number, number>();
  for (const [from, to] of ranges) {
    const codes: number[] = [];
    for (let code = from; code <= to; code++) codes.push(code);
    // one call per range: opencc converts character by character where phrases do not apply, and
    // a string of unrelated characters forms no phrase
    const source = String.fromCharCode(...codes);
    const converted = convert(source);
    if (converted.length !== source.length) {
      for (const code of codes) {
        const single = convert(String.fromCharCode(code));
        if (single.length === 1 && single.charCodeAt(0) !== code) map.set(code, single.charCodeAt(0));
      }
      continue;
    }
    for (let i = 0; i < source.length; i++) {
      if (converted.charCodeAt(i) !== source.charCodeAt(i))
        map.set(source.charCodeAt(i), converted.charCodeAt(i));
    }
  }
  return map;
}

function mapSingle(ch: string, simplified: Map<number, number>): number {
  let folded = ch.normalize('NFKC');
  if (folded.length !== 1) folded = ch;
  const lower = folded.toLowerCase();
  if (lower.length === 1) folded = lower;
  if (!SIGNIFICANT.test(folded)) return NOISE;
  let code = folded.charCodeAt(0);
  code = simplified.get(code) ?? code;
  const digit = CHINESE_DIGITS[String.fromCharCode(code)];
  if (digit !== undefined) code = digit.charCodeAt(0);
  return code;
}

function buildTables(): { base: Uint16Array; view: Uint16Array } {
  const simplified = traditionalToSimplified();
  const base = new Uint16Array(0x10000);
  for (let code = 0; code < 0x10000; code++) {
    if (code >= 0xd800 && code <= 0xdfff) base[code] = CONTEXTUAL;
    else base[code] = mapSingle(String.fromCharCode(code), simplified);
  }
  base[DOT] = CONTEXTUAL;
  base[0xff0e] = CONTEXTUAL; // full-width full stop, NFKC '.'
  base[BREAK] = NOISE;
  // the homophone table applies after the base mapping, so 帳 (→ 帐) reaches 账 too
  const homophones = new Map<number, number>();
  for (const [from, to] of Object.entries(CHAR_HOMOPHONES))
    homophones.set(from.charCodeAt(0), base[to.charCodeAt(0)] || to.charCodeAt(0));
  const view = base.slice();
  for (let code = 0; code < 0x10000; code++) {
    const direct = homophones.get(code);
    if (direct !== undefined) view[code] = direct;
    else if (base[code]! > CONTEXTUAL) view[code] = homophones.get(base[code]!) ?? base[code]!;
  }
  return { base, view };
}

const tables = buildTables();
/** Width, case, script and numerals only: tells a normalised hit from a homophone one. */
export const BASE_TABLE: Uint16Array = tables.base;
/** What the engine matches on: BASE_TABLE plus the homophone characters. */
export const VIEW_TABLE: Uint16Array = tables.view;

/** Astral code points (emoji, CJK extension B, math letters 𝐚) → mapped BMP unit, KEEP_PAIR or NOISE. */
const KEEP_PAIR = -1;
const astralCache = new Map<number, number>();
function astral(codePoint: number): number {
  let mapped = astralCache.get(codePoint);
  if (mapped === undefined) {
    const ch = String.fromCodePoint(codePoint);
    const folded = ch.normalize('NFKC').toLowerCase();
    if (folded.length === 1 && SIGNIFICANT.test(folded)) mapped = VIEW_TABLE[folded.charCodeAt(0)]!;
    else if (/^[\p{L}\p{N}]$/u.test(ch)) mapped = KEEP_PAIR;
    else mapped = NOISE;
    if (mapped === CONTEXTUAL) mapped = NOISE;
    if (astralCache.size < 4096) astralCache.set(codePoint, mapped);
  }
  return mapped;
}

/**
 * The normalised view: `codes[0, length)` and, per code, the UTF-16 offset of the original character
 * it came from. Buffers are reused from scan to scan (grown when a text is longer), so scanning
 * allocates nothing per character.
 */
export class NormalisedView {
  codes = new Uint16Array(4096);
  origin = new Int32Array(4096);
  length = 0;
  /** the longest run of ASCII digits in the view: a regex that needs 11 in a row skips texts without */
  maxDigitRun = 0;
  /** the text the view was made from */
  text = '';

  private ensure(capacity: number): void {
    if (this.codes.length >= capacity) return;
    let size = this.codes.length;
    while (size < capacity) size *= 2;
    this.codes = new Uint16Array(size);
    this.origin = new Int32Array(size);
  }

  /** Shrink buffers that a huge text grew, so one 1 MB message does not pin memory for ever. */
  release(keep = 1 << 16): void {
    if (this.codes.length > keep) {
      this.codes = new Uint16Array(keep);
      this.origin = new Int32Array(keep);
    }
    this.text = '';
  }

  fill(text: string, table: Uint16Array = VIEW_TABLE): this {
    const n = text.length;
    // a break per noise run can add at most one code per kept code, and kept codes ≤ n
    this.ensure(n + 1);
    const codes = this.codes;
    const origin = this.origin;
    let j = 0;
    let noiseRun = 0;
    let digitRun = 0;
    let maxDigitRun = 0;
    for (let i = 0; i < n; i++) {
      const unit = text.charCodeAt(i);
      let mapped = table[unit]!;
      if (mapped === NOISE) {
        noiseRun++;
        continue;
      }
      let width = 1;
      if (mapped === CONTEXTUAL) {
        if (unit === DOT || unit === 0xff0e) {
          // a decimal point stays (年化 3.5% is not 35%); any other dot is noise
          const next = i + 1 < n ? table[text.charCodeAt(i + 1)]! : NOISE;
          if (noiseRun === 0 && j > 0 && isAsciiDigit(codes[j - 1]!) && isAsciiDigit(next)) mapped = DOT;
          else {
            noiseRun++;
            continue;
          }
        } else if (unit <= 0xdbff && i + 1 < n) {
          const low = text.charCodeAt(i + 1);
          if (low < 0xdc00 || low > 0xdfff) {
            noiseRun++;
            continue;
          }
          const kind = astral(((unit - 0xd800) << 10) + (low - 0xdc00) + 0x10000);
          if (kind === NOISE) {
            noiseRun += 2;
            i++;
            continue;
          }
          if (kind === KEEP_PAIR) {
            if (noiseRun > MAX_NOISE_RUN && j > 0) {
              codes[j] = BREAK;
              origin[j++] = i - 1;
            }
            noiseRun = 0;
            digitRun = 0;
            codes[j] = unit;
            origin[j++] = i;
            codes[j] = low;
            origin[j++] = i;
            i++;
            continue;
          }
          mapped = kind;
          width = 2;
        } else {
          // a lone surrogate
          noiseRun++;
          continue;
        }
      }
      if (noiseRun > MAX_NOISE_RUN && j > 0) {
        codes[j] = BREAK;
        origin[j++] = i - 1;
        digitRun = 0;
      }
      noiseRun = 0;
      if (mapped >= 0x30 && mapped <= 0x39) {
        if (++digitRun > maxDigitRun) maxDigitRun = digitRun;
      } else digitRun = 0;
      codes[j] = mapped;
      origin[j++] = i;
      i += width - 1;
    }
    this.length = j;
    this.maxDigitRun = maxDigitRun;
    this.text = text;
    return this;
  }

  /** UTF-16 end offset (exclusive) in the original of the character behind view code `index`. */
  originEnd(index: number): number {
    const start = this.origin[index]!;
    const unit = this.text.charCodeAt(start);
    return unit >= 0xd800 && unit <= 0xdbff ? start + 2 : start + 1;
  }

  /** True when view codes `index - 1` and `index` were adjacent in the original (nothing dropped). */
  adjacent(index: number): boolean {
    return index > 0 && this.originEnd(index - 1) === this.origin[index];
  }

  /**
   * Whether view codes [start, end) may be a hit: one that begins (ends) with an ASCII letter or
   * digit must begin (end) a word or number of the original: "baoben" is not a hit inside
   * "baobenefit", 12378 is not one inside 1237890. Codes that dropped noise separated (bao ben)
   * are separate words. (The regex matcher's filter too.)
   */
  accept(start: number, end: number): boolean {
    const codes = this.codes;
    if (isAsciiAlnum(codes[start]!) && start > 0 && isAsciiAlnum(codes[start - 1]!) && this.adjacent(start))
      return false;
    if (isAsciiAlnum(codes[end - 1]!) && end < this.length && isAsciiAlnum(codes[end]!) && this.adjacent(end))
      return false;
    return true;
  }

  /** True when the original between view codes `from` and `to` (exclusive ends) holds a clause break. */
  clauseBreakBetween(from: number, to: number, breaks: string): boolean {
    if (from < 0) return false;
    for (let k = from; k < to; k++) if (this.codes[k] === BREAK) return true;
    const start = this.originEnd(from);
    const end = this.origin[to]!;
    for (let at = start; at < end; at++) if (breaks.includes(this.text[at]!)) return true;
    return false;
  }

  /** The view as a string (for regexes); UTF-16 code units, one per view code. */
  asString(): string {
    return decoder.decode(this.codes.subarray(0, this.length));
  }
}

const decoder = new TextDecoder('utf-16le');

const scratch = new NormalisedView();
/** A phrase in the view's alphabet (terms, allow phrases, cues): codes only, as a string. */
export function normalisePhrase(phrase: string, table: Uint16Array = VIEW_TABLE): string {
  scratch.fill(phrase, table);
  let out = '';
  for (let i = 0; i < scratch.length; i++)
    if (scratch.codes[i] !== BREAK) out += String.fromCharCode(scratch.codes[i]!);
  scratch.text = '';
  return out;
}
