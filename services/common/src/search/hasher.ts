import { blindIndex } from '../crypto';

/**
 * Blind indexes of search tokens under one index key, with a bounded memo: token frequencies in
 * chat follow Zipf's law, so a few thousand tokens make most of the HMACs of a batch. The memo
 * lives only in process memory (the process sees the plaintext anyway) and is dropped whole when
 * full, which keeps it cheap and bounded.
 */
export class TokenHasher {
  private readonly memo = new Map<string, string>();

  constructor(
    private readonly indexKey: Buffer,
    private readonly maxEntries = 200_000,
  ) {}

  /** BIGINT UNSIGNED as a decimal string */
  hash(token: string): string {
    let value = this.memo.get(token);
    if (value === undefined) {
      value = blindIndex(this.indexKey, token);
      if (this.memo.size >= this.maxEntries) this.memo.clear();
      this.memo.set(token, value);
    }
    return value;
  }
}
