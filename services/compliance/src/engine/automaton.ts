/*
 * Aho–Corasick over UTF-16 code units, built once per lexicon version and read-only afterwards.
 * The root's transitions are a direct 64 Ki table (most steps of ordinary text stay at the root);
 * every other edge lives in one open-addressed hash table of typed arrays keyed by (state, code).
 * Failure links make the scan one pass over the text whatever the number of patterns; `report`
 * links (the nearest state on the failure chain that ends a pattern) make reporting cost only the
 * matches found.
 */

const EMPTY = -1;

/** An Int32Array that grows by doubling (build time only). */
export class GrowableInt32 {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(value: number): number {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length] = value;
    return this.length++;
  }
  trimmed(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** Builds the trie; `build()` freezes it into an Automaton. Pattern ids are given by the caller. */
export class AutomatonBuilder {
  // edges go straight into the automaton's own layout: the root's table and the hashed table
  // (grown by doubling), so building holds no per-edge JS objects
  private readonly rootNext = new Int32Array(0x10000);
  private hashState = new Int32Array(1024).fill(EMPTY);
  private hashCode = new Uint16Array(1024);
  private hashNext = new Int32Array(1024);
  private edgeCount = 0;
  private readonly firstChild = new GrowableInt32();
  private readonly nextSibling = new GrowableInt32();
  private readonly edgeCode = new GrowableInt32();
  private readonly firstPattern = new GrowableInt32();
  private readonly patternNext = new GrowableInt32();
  private readonly patternId = new GrowableInt32();

  constructor() {
    this.newState(0);
  }

  private newState(code: number): number {
    this.firstChild.push(EMPTY);
    this.nextSibling.push(EMPTY);
    this.edgeCode.push(code);
    return this.firstPattern.push(EMPTY);
  }

  /** Adds `pattern` (non-empty) ending with pattern id `id`. */
  add(pattern: string, id: number): void {
    let state = 0;
    for (let i = 0; i < pattern.length; i++) {
      const code = pattern.charCodeAt(i);
      let next = state === 0 ? this.rootNext[code]! : this.lookup(state, code);
      if (next <= 0) {
        next = this.newState(code);
        if (state === 0) this.rootNext[code] = next;
        else this.insert(state, code, next);
        this.nextSibling.data[next] = this.firstChild.data[state]!;
        this.firstChild.data[state] = next;
      }
      state = next;
    }
    const link = this.patternId.push(id);
    this.patternNext.push(this.firstPattern.data[state]!);
    this.firstPattern.data[state] = link;
  }

  private lookup(state: number, code: number): number {
    const mask = this.hashState.length - 1;
    let slot = hashSlot(state, code, mask);
    for (;;) {
      const owner = this.hashState[slot]!;
      if (owner === EMPTY) return 0;
      if (owner === state && this.hashCode[slot] === code) return this.hashNext[slot]!;
      slot = (slot + 1) & mask;
    }
  }

  private insert(state: number, code: number, next: number): void {
    if (++this.edgeCount * 2 > this.hashState.length) this.grow();
    const mask = this.hashState.length - 1;
    let slot = hashSlot(state, code, mask);
    while (this.hashState[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.hashState[slot] = state;
    this.hashCode[slot] = code;
    this.hashNext[slot] = next;
  }

  private grow(): void {
    const [states, codes, nexts] = [this.hashState, this.hashCode, this.hashNext];
    const capacity = states.length * 2;
    this.hashState = new Int32Array(capacity).fill(EMPTY);
    this.hashCode = new Uint16Array(capacity);
    this.hashNext = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let old = 0; old < states.length; old++) {
      const state = states[old]!;
      if (state === EMPTY) continue;
      let slot = hashSlot(state, codes[old]!, mask);
      while (this.hashState[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.hashState[slot] = state;
      this.hashCode[slot] = codes[old]!;
      this.hashNext[slot] = nexts[old]!;
    }
  }

  build(): Automaton {
    const states = this.firstPattern.length;
    const fail = new Int32Array(states);
    const report = new Int32Array(states);
    const firstChild = this.firstChild.data;
    const nextSibling = this.nextSibling.data;
    const edgeCode = this.edgeCode.data;
    const firstPattern = this.firstPattern.data;

    const automaton = new Automaton(
      this.rootNext,
      this.hashState,
      this.hashCode,
      this.hashNext,
      this.hashState.length - 1,
      fail,
      report,
      firstPattern.slice(0, states),
      this.patternNext.trimmed(),
      this.patternId.trimmed(),
    );

    // breadth first: a state's failure link is decided before its children's
    const queue = new Int32Array(states);
    let head = 0;
    let tail = 0;
    for (let child = firstChild[0]!; child !== EMPTY; child = nextSibling[child]!) {
      fail[child] = 0;
      report[child] = firstPattern[child] !== EMPTY ? child : 0;
      queue[tail++] = child;
    }
    while (head < tail) {
      const state = queue[head++]!;
      for (let child = firstChild[state]!; child !== EMPTY; child = nextSibling[child]!) {
        const code = edgeCode[child]!;
        let back = fail[state]!;
        let target = automaton.step(back, code);
        while (target === 0 && back !== 0) {
          back = fail[back]!;
          target = automaton.step(back, code);
        }
        fail[child] = target === child ? 0 : target;
        report[child] = firstPattern[child] !== EMPTY ? child : report[fail[child]!]!;
        queue[tail++] = child;
      }
    }
    return automaton;
  }
}

function hashSlot(state: number, code: number, mask: number): number {
  return (Math.imul(state, 0x9e3779b1) ^ Math.imul(code + 1, 0x85ebca77)) & mask;
}

export class Automaton {
  constructor(
    private readonly rootNext: Int32Array,
    private readonly hashState: Int32Array,
    private readonly hashCode: Uint16Array,
    private readonly hashNext: Int32Array,
    private readonly mask: number,
    private readonly fail: Int32Array,
    private readonly report: Int32Array,
    private readonly firstPattern: Int32Array,
    private readonly patternNext: Int32Array,
    private readonly patternId: Int32Array,
  ) {}

  get states(): number {
    return this.fail.length;
  }

  /** The direct transition of `state` on `code`, or 0 (the root) when there is none. */
  step(state: number, code: number): number {
    if (state === 0) return this.rootNext[code]!;
    const mask = this.mask;
    let slot = hashSlot(state, code, mask);
    for (;;) {
      const owner = this.hashState[slot]!;
      if (owner === EMPTY) return 0;
      if (owner === state && this.hashCode[slot] === code) return this.hashNext[slot]!;
      slot = (slot + 1) & mask;
    }
  }

  /**
   * One pass over `codes[from, length)` from automaton state `state`, writing every pattern
   * occurrence (overlapping ones included) into `out` as (pattern id, inclusive end index) pairs.
   * Stops when `out` is full, so memory is bounded for any text: `resumeAt` / `resumeState` say
   * where to continue. Returns the number of pairs written.
   */
  scan(codes: Uint16Array, from: number, length: number, state: number, out: Int32Array): number {
    const rootNext = this.rootNext;
    const hashState = this.hashState;
    const hashCode = this.hashCode;
    const hashNext = this.hashNext;
    const mask = this.mask;
    const fail = this.fail;
    const report = this.report;
    const firstPattern = this.firstPattern;
    const patternNext = this.patternNext;
    const patternId = this.patternId;
    const capacity = out.length - 1;
    let written = 0;
    for (let i = from; i < length; i++) {
      const code = codes[i]!;
      const before = state;
      for (;;) {
        if (state === 0) {
          state = rootNext[code]!;
          break;
        }
        let slot = (Math.imul(state, 0x9e3779b1) ^ Math.imul(code + 1, 0x85ebca77)) & mask;
        let next = -1;
        for (;;) {
          const owner = hashState[slot]!;
          if (owner === EMPTY) break;
          if (owner === state && hashCode[slot] === code) {
            next = hashNext[slot]!;
            break;
          }
          slot = (slot + 1) & mask;
        }
        if (next >= 0) {
          state = next;
          break;
        }
        state = fail[state]!;
      }
      let found = report[state]!;
      if (found === 0) continue;
      // a position's matches are written whole: stop before it when they might not fit
      if (written > 0 && written + 64 > capacity) {
        this.resumeAt = i;
        this.resumeState = before;
        return written;
      }
      while (found !== 0) {
        for (
          let link = firstPattern[found]!;
          link !== EMPTY && written < capacity;
          link = patternNext[link]!
        ) {
          out[written++] = patternId[link]!;
          out[written++] = i;
        }
        found = report[fail[found]!]!;
      }
    }
    this.resumeAt = length;
    this.resumeState = state;
    return written;
  }

  /** Where the last `scan` stopped (length when it reached the end) and the state to resume with. */
  resumeAt = 0;
  resumeState = 0;

  /** Bytes held by the typed arrays (for the benchmark and the health figures). */
  get bytes(): number {
    return (
      this.rootNext.byteLength +
      this.hashState.byteLength +
      this.hashCode.byteLength +
      this.hashNext.byteLength +
      this.fail.byteLength +
      this.report.byteLength +
      this.firstPattern.byteLength +
      this.patternNext.byteLength +
      this.patternId.byteLength
    );
  }
}
