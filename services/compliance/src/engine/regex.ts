import v8 from 'node:v8';
import safeRegex from 'safe-regex2';

/*
 * Regex entries in a restricted dialect, run on the normalised view (lower case, half width,
 * simplified, digits for Chinese numerals, no spaces or punctuation except '%' and a decimal point).
 * Matching time is bounded twice: at save time a pattern with back-references, look-around or
 * nested unbounded quantifiers is rejected with the reason, and so is one V8's linear-time engine
 * cannot run; at run time the pattern runs on V8's usual backtracking engine (fast on ordinary
 * text), which switches to the linear-time engine for a match that backtracks too much (V8's
 * `--enable-experimental-regexp-engine-on-excessive-backtracks`), so no input can make it slow.
 * Where that engine is missing, the pattern runs on windows of the text instead, so the cost of a
 * match attempt is capped by the window, not by the text.
 */

// V8 ships the linear engine behind flags; they change nothing for other regexps (only patterns the
// linear engine can run fall back to it, and only after excessive backtracking).
v8.setFlagsFromString('--enable-experimental-regexp-engine');
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** The flag of V8's linear-time engine (a plain ES linter does not know it). */
const LINEAR: string = 'l';

export const LINEAR_ENGINE = (() => {
  try {
    new RegExp('a', LINEAR);
    return true;
  } catch {
    return false;
  }
})();

/** Window and overlap used without the linear engine; a regex hit is at most MAX_REGEX_HIT long. */
export const REGEX_WINDOW = 4096;
export const MAX_REGEX_HIT = 256;
export const MAX_REGEX_LENGTH = 200;

/** Why `source` cannot be a regex entry, or null. */
export function regexProblem(source: string): string | null {
  if (source.length > MAX_REGEX_LENGTH) return `the expression is longer than ${MAX_REGEX_LENGTH} characters`;
  try {
    new RegExp(source);
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  if (/\\[1-9]|\\k</.test(source)) return 'back-references (\\1, \\k<name>) are not allowed';
  if (/\(\?<?[=!]/.test(source)) return 'look-ahead and look-behind ((?=, (?!, (?<=, (?<!) are not allowed';
  if (!safeRegex(unboundedOnly(source))) {
    return 'nested unbounded quantifiers (such as (a+)+ or (\\d*)*) can take exponential time: rewrite without nesting';
  }
  const counts = [...source.matchAll(/(?<!\\)\{(\d+)(?:,(\d*))?\}/g)].flatMap((m) => [m[1], m[2]]);
  if (counts.some((count) => count !== undefined && count !== '' && Number(count) > MAX_REPEAT)) {
    return `a counted repetition above ${MAX_REPEAT} ({17}, {2,30}) is not supported: split it ([0-9]{16}[0-9]{0,3})`;
  }
  if (LINEAR_ENGINE) {
    try {
      new RegExp(source, LINEAR);
    } catch {
      return 'the expression cannot be matched in linear time (use plain classes, alternatives and quantifiers)';
    }
  }
  if (new RegExp(`^(?:${source})$`).test('')) return 'the expression matches the empty text';
  return null;
}

/** The linear engine's limit on one counted repetition. */
const MAX_REPEAT = 16;

/**
 * The pattern without its bounded quantifiers (?, {n}, {m,n}), for safe-regex2's star-height
 * check: it counts every quantifier, so (收益率?)? would read as nested; only unbounded ones
 * (*, +, {n,}) nest into exponential backtracking.
 */
function unboundedOnly(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      out += ch + (source[i + 1] ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === '?' && source[i - 1] !== '(') continue;
    else if (ch === '{') {
      const bounded = /^\{\d+(,\d+)?\}/.exec(source.slice(i));
      if (bounded) {
        i += bounded[0].length - 1;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/**
 * What a match of `source` needs before the regex is worth running on a text, found by reading the
 * pattern's start (conservatively: anything not understood gives no gate): `literal`, the fixed
 * characters every match begins with (年化), and `digits`, how many ASCII digits every match
 * begins with in a row (a mobile number: 11). Most texts have neither, and skip the regex.
 */
export function regexGate(source: string): { literal: string; digits: number } {
  // a top-level alternation (a|b) has no single start
  if (skipAlternative(source, 0) !== source.length) return { literal: '', digits: 0 };
  let literal = '';
  let i = 0;
  while (i < source.length && !/[\\^$.|?*+()[\]{}]/.test(source[i]!)) {
    const quantified = /[?*{]/.test(source[i + 1] ?? '');
    if (quantified) break;
    literal += source[i];
    i++;
  }
  return { literal: /^[0-9]*$/.test(literal) ? '' : literal, digits: leadingDigits(source) };
}

/** Digits every match of `source` begins with in a row (0 when unsure). */
function leadingDigits(source: string): number {
  const parsed = digitRun(source, 0);
  return parsed ? parsed.run : 0;
}

/**
 * Reads atoms from `at` until the end of the alternative: the least number of digits they give in
 * a row, and whether every atom was digits only (so the run goes on after a group).
 */
function digitRun(source: string, at: number): { run: number; end: number; whole: boolean } | null {
  let run = 0;
  let i = at;
  while (i < source.length && source[i] !== ')' && source[i] !== '|') {
    let atomMin: number;
    let atomWhole: boolean;
    const ch = source[i]!;
    if (/[0-9]/.test(ch)) {
      atomMin = 1;
      atomWhole = true;
      i++;
    } else if (ch === '\\' && source[i + 1] === 'd') {
      atomMin = 1;
      atomWhole = true;
      i += 2;
    } else if (ch === '[') {
      const close = source.indexOf(']', i + 1);
      if (close < 0) return null;
      const body = source.slice(i + 1, close);
      atomWhole = /^([0-9](-[0-9])?)+$/.test(body);
      atomMin = atomWhole ? 1 : 0;
      i = close + 1;
    } else if (ch === '(') {
      if (source[i + 1] === '?') {
        if (source[i + 2] !== ':') return { run, end: i, whole: false };
        i += 2;
      }
      // every alternative: the least run, digits only if all are
      let least = Infinity;
      let whole = true;
      let k = i + 1;
      for (;;) {
        const alternative = digitRun(source, k);
        if (!alternative) return null;
        least = Math.min(least, alternative.run);
        whole &&= alternative.whole;
        k = alternative.end;
        if (source[k] === '|') {
          k++;
          continue;
        }
        if (source[k] !== ')') return null;
        break;
      }
      atomMin = least;
      atomWhole = whole;
      i = k + 1;
    } else {
      return { run, end: skipAlternative(source, i), whole: false };
    }
    // the quantifier
    let times = 1;
    const quantifier = /^(\?|\*|\+|\{(\d+)(,\d*)?\})\??/.exec(source.slice(i));
    if (quantifier) {
      const q = quantifier[1]!;
      times = q === '?' || q === '*' ? 0 : q === '+' ? 1 : Number(quantifier[2]);
      i += quantifier[0].length;
    }
    if (!atomWhole)
      return { run: run + (times > 0 ? atomMin : 0), end: skipAlternative(source, i), whole: false };
    run += atomMin * times;
  }
  return { run, end: i, whole: true };
}

/** The index of the `|` or `)` that ends the alternative running at `at` (nesting respected). */
function skipAlternative(source: string, at: number): number {
  let depth = 0;
  for (let i = at; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') i++;
    else if (ch === '[') {
      const close = source.indexOf(']', i + 1);
      i = close < 0 ? source.length : close;
    } else if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) return i;
      depth--;
    } else if (ch === '|' && depth === 0) return i;
  }
  return source.length;
}

/** The compiled expression of a valid regex entry. */
export const compileRegex = (source: string) => new RegExp(source, 'g');

/** Decides whether a regex match [start, end) of the view counts (a number inside a longer one does not). */
export interface MatchFilter {
  accept(start: number, end: number): boolean;
}

/**
 * Every match of `regex` in `view` as start/end pairs appended to `out`, at most `limit` of them;
 * a match `filter` refuses is skipped and the search goes on one code later. (No closures here:
 * this runs per text and regex.)
 */
export function regexMatches(
  regex: RegExp,
  view: string,
  limit: number,
  filter: MatchFilter,
  out: number[],
): void {
  const first = out.length;
  if (LINEAR_ENGINE || view.length <= REGEX_WINDOW) {
    collect(regex, view, 0, view.length, limit, filter, out, first);
  } else {
    for (let at = 0; at < view.length && (out.length - first) / 2 < limit; at += REGEX_WINDOW) {
      // a window reaches MAX_REGEX_HIT past its end so a match starting inside it is whole
      collect(
        regex,
        view.slice(at, at + REGEX_WINDOW + MAX_REGEX_HIT),
        at,
        REGEX_WINDOW,
        limit,
        filter,
        out,
        first,
      );
      const lastEnd = out.length > first ? out[out.length - 1]! : 0;
      if (lastEnd > at + REGEX_WINDOW) at = lastEnd - REGEX_WINDOW;
    }
  }
  regex.lastIndex = 0;
}

function collect(
  regex: RegExp,
  text: string,
  offset: number,
  until: number,
  limit: number,
  filter: MatchFilter,
  out: number[],
  first: number,
): void {
  regex.lastIndex = 0;
  while ((out.length - first) / 2 < limit) {
    const match = regex.exec(text);
    if (!match || match.index >= until) return;
    const start = match.index;
    const end = start + match[0].length;
    if (end > start && end - start <= MAX_REGEX_HIT && filter.accept(offset + start, offset + end)) {
      out.push(offset + start, offset + end);
      regex.lastIndex = end;
    } else {
      regex.lastIndex = start + 1;
    }
  }
}
