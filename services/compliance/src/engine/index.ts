import type { HitVia, LexiconEntry, LexiconHit } from '@cz/contracts';
import { Automaton, AutomatonBuilder, GrowableInt32 } from './automaton';
import { BASE_TABLE, NormalisedView, normalisePhrase } from './normalise';
import { isHanTerm, pinyinForms } from './pinyin';
import { compileRegex, regexGate, regexMatches, regexProblem } from './regex';
import type { CompiledLexicon, EntryValidator, LexiconCompiler } from './types';
import { CLAUSE_BREAKS, NEGATION_CUES, PHRASE_VARIANTS } from './variants';

export type { CompiledLexicon, EntryValidator, LexiconCompiler } from './types';
export { NormalisedView } from './normalise';

/*
 * The lexicon engine: compile a lexicon version once (automaton, regexes, cues), then scan texts.
 *
 * scan(text):
 *   1. the normalised view of the text (normalise.ts), with its map back to the original;
 *   2. one Aho–Corasick pass over the view for every term form (the term, its homophone phrases,
 *      pinyin and initials), allow phrase and proximity phrase of every entry;
 *   3. each regex entry on the view (linear-time engine);
 *   4. proximity pairs; then the filters: a letter or digit hit must be a whole word or number in
 *      the original, a negation cue just before drops a hit (unless negatable: false), an allow
 *      phrase around it drops it, and within one category a hit inside a longer hit is dropped;
 *   5. offsets mapped back to the original text, with how each hit was found (`via`).
 */

/** Hits reported per entry and scan: enough to highlight, bounded for any text. */
export const MAX_HITS_PER_ENTRY = 100;
/** Allow and proximity phrases collected per entry and scan (they only filter or pair). */
const MAX_SPANS_PER_ENTRY = 10_000;
/** Variants (homophone phrases, pinyin forms) compiled per term. */
const MAX_FORMS_PER_TERM = 64;

const enum Role {
  Term,
  Allow,
  Near1,
  Near2,
  /** the fixed start of a regex (年化): the regex runs only on texts that have it */
  Gate,
}
const enum Via {
  Term,
  Homophone,
  Pinyin,
  Initials,
}
const VIA_NAME: Record<Via, HitVia> = {
  [Via.Term]: 'exact',
  [Via.Homophone]: 'homophone',
  [Via.Pinyin]: 'pinyin',
  [Via.Initials]: 'initials',
};

interface CompiledEntry {
  entry: LexiconEntry;
  negatable: boolean;
  regex?: RegExp;
  /** regex: runs only when its gate phrase occurred */
  gated?: boolean;
  /** regex: runs only when the view has this many digits in a row */
  minDigits?: number;
}

interface Span {
  start: number;
  /** exclusive, in view codes */
  end: number;
}

interface Candidate extends Span {
  entry: number;
  via: HitVia;
  /** where a negation cue is looked for: the hit's start, or each phrase's start for proximity */
  negationPoints?: number[];
}

export const validateEntry: EntryValidator = (entry: LexiconEntry) => {
  switch (entry.kind) {
    case 'term':
    case 'allow':
      if (normalisePhrase(entry.pattern) === '')
        return 'the phrase has no letters or digits (only spaces, punctuation or symbols)';
      return null;
    case 'proximity':
      if (entry.near === undefined || entry.within === undefined)
        return 'a proximity entry needs `near` and `within`';
      if (normalisePhrase(entry.pattern) === '' || normalisePhrase(entry.near) === '') {
        return 'both phrases of a proximity entry need letters or digits';
      }
      return null;
    case 'regex':
      return regexProblem(entry.pattern);
    default:
      return `unknown entry kind ${String((entry as { kind: unknown }).kind)}`;
  }
};

const CUES = NEGATION_CUES.map(({ cue, window }) => ({ codes: normalisePhrase(cue), window })).filter(
  (cue) => cue.codes.length > 0,
);

/** The term forms of a term entry: its phrase, its homophone phrases and its pinyin forms. */
/** The homophone phrases in the view's alphabet, once. */
const PHRASES = Object.entries(PHRASE_VARIANTS).map(([phrase, variants]) => ({
  key: normalisePhrase(phrase),
  variants: variants.map((variant) => normalisePhrase(variant)),
}));

/** Term forms by term and pinyin setting: versions and drafts recompile mostly the same terms. */
const formsCache = new Map<string, readonly { text: string; via: Via }[]>();
const FORMS_CACHE_SIZE = 20_000;

function termForms(entry: LexiconEntry): readonly { text: string; via: Via }[] {
  const pinyinOn = entry.pinyin ?? isHanTerm(entry.pattern.trim());
  const cacheKey = `${pinyinOn ? 1 : 0}${entry.pattern}`;
  const cached = formsCache.get(cacheKey);
  if (cached) return cached;
  const base = normalisePhrase(entry.pattern);
  const forms = new Map<string, Via>([[base, Via.Term]]);
  const add = (normalised: string, via: Via) => {
    if (normalised.length > 0 && !forms.has(normalised) && forms.size < MAX_FORMS_PER_TERM)
      forms.set(normalised, via);
  };
  for (const { key, variants } of PHRASES) {
    if (!base.includes(key)) continue;
    for (const variant of variants) add(base.split(key).join(variant), Via.Homophone);
  }
  if (pinyinOn) {
    for (const form of pinyinForms(entry.pattern.trim())) {
      add(normalisePhrase(form.text), form.via === 'pinyin' ? Via.Pinyin : Via.Initials);
    }
  }
  const result = [...forms].map(([text, via]) => ({ text, via }));
  if (formsCache.size >= FORMS_CACHE_SIZE) formsCache.clear();
  formsCache.set(cacheKey, result);
  return result;
}

class Lexicon implements CompiledLexicon {
  readonly size: number;
  private readonly entries: CompiledEntry[] = [];
  private readonly automaton: Automaton;
  /** per pattern id: entry index, role, via, length in view codes */
  private readonly patternEntry: Int32Array;
  private readonly patternRole: Uint8Array;
  private readonly patternVia: Uint8Array;
  private readonly patternLength: Int32Array;
  private readonly view = new NormalisedView();
  private readonly counts: Int32Array;
  /** indexes of the regex entries */
  private readonly regexEntries: number[] = [];

  constructor(
    source: readonly LexiconEntry[],
    readonly version: number,
  ) {
    const builder = new AutomatonBuilder();
    // per pattern id: entry, role << 8 | via, length (typed, so 10,000 terms build no objects per form)
    const patternEntry = new GrowableInt32();
    const patternKind = new GrowableInt32();
    const patternLength = new GrowableInt32();
    const addPattern = (text: string, entry: number, role: Role, via: Via) => {
      builder.add(text, patternEntry.length);
      patternEntry.push(entry);
      patternKind.push((role << 8) | via);
      patternLength.push(text.length);
    };
    for (const entry of source) {
      if (!entry.enabled || validateEntry(entry) !== null) continue;
      const index = this.entries.length;
      const compiled: CompiledEntry = { entry, negatable: entry.negatable ?? true };
      this.entries.push(compiled);
      switch (entry.kind) {
        case 'term':
          for (const form of termForms(entry)) addPattern(form.text, index, Role.Term, form.via);
          break;
        case 'allow':
          addPattern(normalisePhrase(entry.pattern), index, Role.Allow, Via.Term);
          break;
        case 'proximity':
          addPattern(normalisePhrase(entry.pattern), index, Role.Near1, Via.Term);
          addPattern(normalisePhrase(entry.near!), index, Role.Near2, Via.Term);
          break;
        case 'regex':
          {
            compiled.regex = compileRegex(entry.pattern);
            const gate = regexGate(entry.pattern);
            compiled.minDigits = gate.digits;
            // the regex sees the view, so only a literal the view can contain is a gate
            if (gate.literal !== '' && normalisePhrase(gate.literal) === gate.literal) {
              compiled.gated = true;
              addPattern(gate.literal, index, Role.Gate, Via.Term);
            }
            this.regexEntries.push(index);
          }
          break;
      }
    }
    this.size = this.entries.length;
    this.counts = new Int32Array(this.size);
    this.automaton = builder.build();
    this.patternEntry = patternEntry.trimmed();
    const kinds = patternKind.trimmed();
    this.patternRole = Uint8Array.from(kinds, (kind) => kind >> 8);
    this.patternVia = Uint8Array.from(kinds, (kind) => kind & 0xff);
    this.patternLength = patternLength.trimmed();
  }

  /** Automaton states and bytes (benchmark, health). */
  get stats(): { states: number; bytes: number; patterns: number } {
    return { states: this.automaton.states, bytes: this.automaton.bytes, patterns: this.patternEntry.length };
  }

  /** Occurrences of every automaton phrase in an already normalised view: the pass alone (benchmark). */
  countMatches(view: NormalisedView): number {
    let count = 0;
    let from = 0;
    let state = 0;
    do {
      count += this.automaton.scan(view.codes, from, view.length, state, matchBuffer) / 2;
      from = this.automaton.resumeAt;
      state = this.automaton.resumeState;
    } while (from < view.length);
    return count;
  }

  scan(text: string): LexiconHit[] {
    if (text.length === 0 || this.size === 0) return [];
    const view = this.view.fill(text);
    try {
      return this.scanView(view);
    } finally {
      if (text.length > 1 << 16) view.release();
      else view.text = '';
    }
  }

  private scanView(view: NormalisedView): LexiconHit[] {
    const entries = this.entries;
    const candidates: Candidate[] = [];
    const allows: Span[] = [];
    const near = new Map<number, { first: Span[]; second: Span[] }>();
    // phrases counted per entry (reused from scan to scan; only touched entries are reset)
    const counts = this.counts;
    const touched: number[] = [];
    const opened = new Set<number>();

    let from = 0;
    let state = 0;
    while (from < view.length) {
      const written = this.automaton.scan(view.codes, from, view.length, state, matchBuffer);
      from = this.automaton.resumeAt;
      state = this.automaton.resumeState;
      for (let k = 0; k < written; k += 2) {
        const pattern = matchBuffer[k]!;
        const entry = this.patternEntry[pattern]!;
        const role = this.patternRole[pattern]! as Role;
        if (role === Role.Gate) {
          opened.add(entry);
          continue;
        }
        if (counts[entry]! >= (role === Role.Term ? MAX_HITS_PER_ENTRY * 4 : MAX_SPANS_PER_ENTRY)) continue;
        const end = matchBuffer[k + 1]! + 1;
        const start = end - this.patternLength[pattern]!;
        if (!view.accept(start, end)) continue;
        if (counts[entry]!++ === 0) touched.push(entry);
        if (role === Role.Term) {
          candidates.push({ entry, start, end, via: VIA_NAME[this.patternVia[pattern]! as Via] });
        } else if (role === Role.Allow) {
          allows.push({ start, end });
        } else {
          let pair = near.get(entry);
          if (!pair) near.set(entry, (pair = { first: [], second: [] }));
          (role === Role.Near1 ? pair.first : pair.second).push({ start, end });
        }
      }
    }
    for (const entry of touched) counts[entry] = 0;

    if (this.regexEntries.length > 0) {
      let viewString: string | undefined;
      const found: number[] = [];
      for (const index of this.regexEntries) {
        const compiled = entries[index]!;
        if ((compiled.gated && !opened.has(index)) || view.maxDigitRun < compiled.minDigits!) continue;
        found.length = 0;
        viewString ??= view.asString();
        regexMatches(compiled.regex!, viewString, MAX_HITS_PER_ENTRY, view, found);
        for (let k = 0; k < found.length; k += 2) {
          candidates.push({ entry: index, start: found[k]!, end: found[k + 1]!, via: 'regex' });
        }
      }
    }

    for (const [index, pair] of near) {
      const within = entries[index]!.entry.within!;
      let found = 0;
      for (const a of pair.first) {
        for (const b of pair.second) {
          const gap = a.start < b.start ? b.start - a.end : a.start - b.end;
          if (gap < 0 ? overlapsOnly(a, b) : gap > within) continue;
          candidates.push({
            entry: index,
            start: Math.min(a.start, b.start),
            end: Math.max(a.end, b.end),
            via: 'proximity',
            // a negation before either phrase negates the pair (收益不保证)
            negationPoints: [a.start, b.start],
          });
          if (++found >= MAX_HITS_PER_ENTRY) break;
        }
        if (found >= MAX_HITS_PER_ENTRY) break;
      }
    }
    if (candidates.length === 0) return [];

    // a hit inside a longer one of its category shares its fate (加私人微信 negated: 私人微信 too)
    const kept: Candidate[] = [];
    for (const hit of dropContained(candidates, entries)) {
      if (entries[hit.entry]!.negatable && isNegated(view, hit)) continue;
      if (insideAllow(allows, hit)) continue;
      kept.push(hit);
    }
    return this.report(view, kept);
  }

  private report(view: NormalisedView, kept: Candidate[]): LexiconHit[] {
    const seen = new Set<string>();
    const perEntry = new Map<number, number>();
    const hits: LexiconHit[] = [];
    for (const hit of kept) {
      const key = `${hit.entry}:${hit.start}:${hit.end}`;
      const reported = perEntry.get(hit.entry) ?? 0;
      if (seen.has(key) || reported >= MAX_HITS_PER_ENTRY) continue;
      seen.add(key);
      perEntry.set(hit.entry, reported + 1);
      const { entry } = this.entries[hit.entry]!;
      const start = view.origin[hit.start]!;
      const end = view.originEnd(hit.end - 1);
      hits.push({
        term: entry.pattern,
        category: entry.category,
        severity: entry.severity,
        start,
        end,
        ruleId: entry.id,
        via: hit.via === 'exact' ? termVia(view.text.slice(start, end), entry.pattern) : hit.via,
        explanation: entry.explanation,
        reg: [...entry.reg],
      });
    }
    return hits.sort((a, b) => a.start - b.start || b.end - a.end || a.ruleId.localeCompare(b.ruleId));
  }
}

/** Overlapping phrases of a proximity entry count only when neither contains the other. */
const overlapsOnly = (a: Span, b: Span) =>
  !(a.start <= b.start && b.end <= a.end) && !(b.start <= a.start && a.end <= b.end);

/** Matches of one automaton pass, (pattern id, end) pairs; shared, since scans are synchronous. */
const matchBuffer = new Int32Array(1 << 14);

function isNegated(view: NormalisedView, hit: Candidate): boolean {
  if (!hit.negationPoints) return negated(view, hit.start);
  for (const point of hit.negationPoints) if (negated(view, point)) return true;
  return false;
}

function insideAllow(allows: readonly Span[], hit: Span): boolean {
  for (const allow of allows) if (allow.start <= hit.start && hit.end <= allow.end) return true;
  return false;
}

/** How a base-term hit was found: the text as written, after normalisation, or through a homophone. */
function termVia(original: string, pattern: string): HitVia {
  if (original === pattern) return 'exact';
  return normalisePhrase(original, BASE_TABLE) === normalisePhrase(pattern, BASE_TABLE)
    ? 'normalised'
    : 'homophone';
}

/** A negation cue ends at most its window before `start`, in the same clause. */
function negated(view: NormalisedView, start: number): boolean {
  const codes = view.codes;
  for (const { codes: cue, window } of CUES) {
    for (let gap = 0; gap <= window; gap++) {
      const cueEnd = start - gap;
      const cueStart = cueEnd - cue.length;
      if (cueStart < 0) break;
      let equal = true;
      for (let k = 0; k < cue.length; k++) {
        if (codes[cueStart + k] !== cue.charCodeAt(k)) {
          equal = false;
          break;
        }
      }
      if (!equal) continue;
      if (!view.clauseBreakBetween(cueEnd - 1, start, CLAUSE_BREAKS)) return true;
    }
  }
  return false;
}

/** Within one category, a hit inside a longer (or earlier equal) hit says nothing new: dropped. */
function dropContained(hits: Candidate[], entries: readonly CompiledEntry[]): Candidate[] {
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  const ordered = hits
    .map((hit, order) => ({ hit, order }))
    .sort(
      (a, b) =>
        a.hit.start - b.hit.start ||
        b.hit.end - a.hit.end ||
        rank[entries[a.hit.entry]!.entry.severity] - rank[entries[b.hit.entry]!.entry.severity] ||
        a.order - b.order,
    );
  const reach = new Map<string, number>();
  const kept: Candidate[] = [];
  for (const { hit } of ordered) {
    const category = entries[hit.entry]!.entry.category;
    const furthest = reach.get(category) ?? -1;
    if (hit.end <= furthest) continue;
    reach.set(category, hit.end);
    kept.push(hit);
  }
  return kept;
}

/**
 * Every phrase the automaton of `entries` holds, in the view's alphabet (term forms, allow and
 * proximity phrases): what a baseline matcher must find to do the same work (the benchmark).
 */
export function automatonPhrases(entries: readonly LexiconEntry[]): string[] {
  const phrases = new Set<string>();
  for (const entry of entries) {
    if (!entry.enabled || validateEntry(entry) !== null) continue;
    if (entry.kind === 'term') for (const form of termForms(entry)) phrases.add(form.text);
    else if (entry.kind === 'allow') phrases.add(normalisePhrase(entry.pattern));
    else if (entry.kind === 'proximity') {
      phrases.add(normalisePhrase(entry.pattern));
      phrases.add(normalisePhrase(entry.near!));
    }
  }
  return [...phrases];
}

export const compileLexicon: LexiconCompiler = (entries, version) => new Lexicon(entries, version);

/** The automaton pass alone over a normalised view (for the benchmark); -1 for another implementation. */
export const automatonMatchCount = (lexicon: CompiledLexicon, view: NormalisedView) =>
  lexicon instanceof Lexicon ? lexicon.countMatches(view) : -1;

/** The compiled lexicon's automaton figures, for the benchmark. */
export const lexiconStats = (lexicon: CompiledLexicon) =>
  lexicon instanceof Lexicon ? lexicon.stats : { states: 0, bytes: 0, patterns: 0 };
