import { combine, split } from 'shamir-secret-sharing';
import { AppError } from '@cz/common';
import { tagsEqual } from '@cz/common/crypto';
import { ROOT_KEY_BYTES, SHARE_BYTES, rootCheckValue, shareCheckValue } from './material';

export interface SealConfig {
  threshold: number;
  shareCount: number;
  rootCheck: string;
  /** x-coordinate → check value of the share issued for it */
  shareChecks: ReadonlyMap<number, string>;
  /** x-coordinate → the officer the share was encrypted to (null: initialised before enrolment) */
  shareOwners: ReadonlyMap<number, string | null>;
}

export interface UnsealOutcome {
  progress: number;
  unsealed: boolean;
  /** x-coordinate of the accepted share (for the audit trail; the share itself is never logged) */
  x: number;
}

/** shamir-secret-sharing checks `constructor === Uint8Array`, so a Node Buffer must be copied */
const toUint8 = (buffer: Buffer) => new Uint8Array(buffer);

/** Splits a fresh root key into `shares` shares; any `threshold` of them rebuild it. */
export async function splitRootKey(root: Buffer, shares: number, threshold: number): Promise<Buffer[]> {
  if (root.length !== ROOT_KEY_BYTES) throw new Error('root key must be 32 bytes');
  const parts = await split(toUint8(root), shares, threshold);
  return parts.map((part) => Buffer.from(part));
}

export function parseShare(encoded: string): Buffer {
  const share = Buffer.from(encoded, 'base64url');
  if (share.length !== SHARE_BYTES || share.toString('base64url') !== encoded) {
    throw new AppError(400, 'malformed_share', `a share is ${SHARE_BYTES} bytes in base64url`);
  }
  return share;
}

/**
 * Whether the root key is in memory, and the shares of the unseal round in progress. One per
 * process: each replica of the key service is unsealed on its own (as with Vault's Shamir seal).
 */
export class SealState {
  private root: Buffer | undefined;
  private readonly pending = new Map<number, Buffer>();
  private roundStartedAt = 0;

  constructor(private readonly roundTimeoutMs: number) {}

  get sealed(): boolean {
    return this.root === undefined;
  }

  get progress(): number {
    this.expireRound();
    return this.pending.size;
  }

  /** The root key; callers must not keep or modify it. Throws 503 `sealed` while sealed. */
  rootKey(status: { threshold: number }): Buffer {
    if (!this.root) {
      throw new AppError(
        503,
        'sealed',
        `the key service is sealed: ${this.progress} of ${status.threshold} unseal shares submitted`,
      );
    }
    return this.root;
  }

  /**
   * Takes one share. Refusals change nothing: a share that was not issued at init
   * (`wrong_share`), a second copy of a share already in this round (`duplicate_share`). When the
   * threshold is reached the shares are combined and the result checked against the stored
   * check value (`wrong_share_combination`, round reset) before the service unseals.
   */
  async submit(share: Buffer, config: SealConfig): Promise<UnsealOutcome> {
    this.expireRound();
    const x = share[ROOT_KEY_BYTES]!;
    const expected = config.shareChecks.get(x);
    if (!expected || !tagsEqual(Buffer.from(expected, 'hex'), Buffer.from(shareCheckValue(share), 'hex'))) {
      throw new AppError(
        400,
        'wrong_share',
        'this is not one of the shares issued when the key service was initialised',
      );
    }
    if (this.pending.has(x)) {
      throw new AppError(
        409,
        'duplicate_share',
        `this share was already submitted in this unseal round (${this.pending.size} of ${config.threshold})`,
      );
    }
    if (this.pending.size === 0) this.roundStartedAt = Date.now();
    this.pending.set(x, Buffer.from(share));
    if (this.pending.size < config.threshold) return { progress: this.pending.size, unsealed: false, x };

    const shares = [...this.pending.values()];
    this.pending.clear(); // the round ends either way; the shares are overwritten after combining
    this.roundStartedAt = 0;
    const root = Buffer.from(await combine(shares.map(toUint8)));
    for (const s of shares) s.fill(0);
    if (!tagsEqual(Buffer.from(rootCheckValue(root), 'hex'), Buffer.from(config.rootCheck, 'hex'))) {
      root.fill(0);
      throw new AppError(
        400,
        'wrong_share_combination',
        'the shares do not rebuild the root key; the unseal round was reset',
      );
    }
    this.root = root;
    return { progress: config.threshold, unsealed: true, x };
  }

  reset(): void {
    for (const share of this.pending.values()) share.fill(0);
    this.pending.clear();
    this.roundStartedAt = 0;
  }

  /** Forgets the root key (overwritten in place) and any round in progress. */
  seal(): void {
    this.root?.fill(0);
    this.root = undefined;
    this.reset();
  }

  private expireRound(): void {
    if (this.pending.size > 0 && Date.now() - this.roundStartedAt > this.roundTimeoutMs) this.reset();
  }
}
