import type { DataSource } from 'typeorm';
import { AppError } from '@cz/common';
import type { KeyInitReply, KeyInitRequest, KeyServiceStatus } from '@cz/contracts';
import type { AuditTrail } from './audit-trail';
import { newToken, type Credentials } from './credentials';
import { DATA_CLASSES, createFirstKeyrings } from './keyrings';
import { newRootKey, rootCheckValue, shareCheckValue } from './material';
import { actorOf, type Principal } from './principal';
import { SealState, parseShare, splitRootKey, type SealConfig } from './seal';

/**
 * Initialisation (once) and the seal: the stored seal configuration (ks_config, ks_share_check),
 * the Shamir unseal rounds, and the root key while unsealed. Whoever caches key material derived
 * from the root key registers with `onSeal` to forget it when the service seals.
 */
export class Sealing {
  private config: SealConfig | undefined;
  private readonly sealListeners: (() => void)[] = [];

  constructor(
    private readonly db: DataSource,
    private readonly state: SealState,
    private readonly audit: AuditTrail,
    private readonly credentials: Credentials,
  ) {}

  get sealed(): boolean {
    return this.state.sealed;
  }

  onSeal(listener: () => void): void {
    this.sealListeners.push(listener);
  }

  /** The stored seal configuration, or undefined before `init`; kept once read (it never changes). */
  async loadConfig(): Promise<SealConfig | undefined> {
    if (this.config) return this.config;
    const [row] = await this.db.query<{ threshold: number; share_count: number; root_check: string }[]>(
      'SELECT threshold, share_count, root_check FROM ks_config WHERE id = 1',
    );
    if (!row) return undefined;
    const checks = await this.db.query<
      {
        x: number;
        check_hash: string;
      }[]
    >('SELECT x, check_hash FROM ks_share_check');
    this.config = {
      threshold: row.threshold,
      shareCount: row.share_count,
      rootCheck: row.root_check,
      shareChecks: new Map(checks.map((c) => [Number(c.x), c.check_hash])),
    };
    return this.config;
  }

  private async requireConfig(): Promise<SealConfig> {
    const config = await this.loadConfig();
    if (!config)
      throw new AppError(503, 'not_initialized', 'the key service has not been initialised (keys init)');
    return config;
  }

  /** The root key, or 503 `sealed` / `not_initialized`. Callers must not keep or modify it. */
  async rootKey(): Promise<Buffer> {
    return this.state.rootKey(await this.requireConfig());
  }

  /** Whether key operations can run now: initialised and unsealed. */
  async usable(): Promise<boolean> {
    return !this.state.sealed && (await this.loadConfig()) !== undefined;
  }

  async status(): Promise<KeyServiceStatus> {
    const config = await this.loadConfig();
    return {
      initialized: config !== undefined,
      sealed: this.state.sealed,
      threshold: config?.threshold ?? 0,
      shares: config?.shareCount ?? 0,
      progress: this.state.progress,
    };
  }

  /**
   * Generates the root key, splits it, creates version 1 of every keyring and the officers' and
   * services' credentials. Returns shares and credentials once; stores neither. The service stays
   * sealed: officers unseal it with their shares like after any restart.
   */
  async init(request: KeyInitRequest): Promise<KeyInitReply> {
    const target = 'keyservice';
    if (request.threshold > request.shares) {
      throw await this.audit.refuse(
        null,
        'init',
        target,
        new AppError(400, 'invalid_init', 'threshold cannot exceed the number of shares'),
      );
    }
    const names = new Set(request.callers.map((c) => c.name));
    if (names.size !== request.callers.length) {
      throw await this.audit.refuse(
        null,
        'init',
        target,
        new AppError(400, 'invalid_init', 'caller names must be unique'),
      );
    }
    if (await this.loadConfig()) {
      throw await this.audit.refuse(
        null,
        'init',
        target,
        new AppError(
          409,
          'already_initialized',
          'the key service is already initialised; shares are never shown again',
        ),
      );
    }
    const root = newRootKey();
    try {
      const shares = await splitRootKey(root, request.shares, request.threshold);
      const officers = request.officers.map((name) => ({ name, token: newToken('cko') }));
      const callers = request.callers.map((c) => ({
        name: c.name,
        classes: c.classes ?? [],
        token: newToken('cks'),
      }));
      const now = new Date();
      try {
        await this.db.transaction(async (tx) => {
          await tx.query(
            'INSERT INTO ks_config (id, threshold, share_count, root_check, initialized_at) VALUES (1, ?, ?, ?, ?)',
            [request.threshold, request.shares, rootCheckValue(root), now],
          );
          for (const share of shares) {
            await tx.query('INSERT INTO ks_share_check (x, check_hash) VALUES (?, ?)', [
              share[share.length - 1],
              shareCheckValue(share),
            ]);
          }
          await createFirstKeyrings(tx, root, now);
          for (const officer of officers)
            await this.credentials.insert(tx, 'officer', officer.name, officer.token, [], 'init');
          for (const caller of callers) {
            await this.credentials.insert(tx, 'service', caller.name, caller.token, caller.classes, 'init');
          }
          await this.audit.record(
            {
              actor: 'anonymous',
              action: 'init',
              outcome: 'ok',
              target,
              detail: {
                shares: request.shares,
                threshold: request.threshold,
                officers: request.officers,
                callers: callers.map((c) => ({ name: c.name, classes: c.classes })),
                keyrings: DATA_CLASSES,
              },
            },
            tx,
          );
        });
      } catch (err) {
        if ((err as { code?: string }).code === 'ER_DUP_ENTRY') {
          throw await this.audit.refuse(
            null,
            'init',
            target,
            new AppError(409, 'already_initialized', 'the key service was initialised concurrently'),
          );
        }
        throw err;
      }
      const reply = {
        shares: shares.map((s) => s.toString('base64url')),
        threshold: request.threshold,
        officers: officers.map(({ name, token }) => ({ name, token })),
        callers: callers.map(({ name, token }) => ({ name, token })),
      };
      for (const share of shares) share.fill(0);
      return reply;
    } finally {
      root.fill(0);
    }
  }

  /** One share per call; `reset` abandons the round in progress. */
  async unseal(input: { share: string } | { reset: true }): Promise<KeyServiceStatus> {
    const config = await this.loadConfig();
    if (!config) {
      throw await this.audit.refuse(
        null,
        'unseal',
        'keyservice',
        new AppError(409, 'not_initialized', 'the key service has not been initialised (keys init)'),
      );
    }
    if ('reset' in input) {
      this.state.reset();
      await this.audit.record({
        actor: 'anonymous',
        action: 'unseal.reset',
        outcome: 'ok',
        target: 'keyservice',
      });
      return this.status();
    }
    if (!this.state.sealed) return this.status();
    let x: number | undefined;
    try {
      const share = parseShare(input.share);
      x = share[share.length - 1];
      const outcome = await this.state.submit(share, config);
      share.fill(0);
      await this.audit.record({
        actor: 'anonymous',
        action: outcome.unsealed ? 'unseal.complete' : 'unseal.share',
        outcome: 'ok',
        target: 'keyservice',
        detail: { shareX: outcome.x, progress: outcome.progress, threshold: config.threshold },
      });
    } catch (err) {
      if (err instanceof AppError) {
        throw await this.audit.refuse(null, 'unseal.share', 'keyservice', err, {
          shareX: x ?? null,
          progress: this.state.progress,
          threshold: config.threshold,
        });
      }
      throw err;
    }
    return this.status();
  }

  /** Forgets the root key and every unwrapped KEK (e.g. on suspicion of compromise). */
  async sealNow(principal: Principal): Promise<KeyServiceStatus> {
    this.forgetRootKey();
    await this.audit.record({
      actor: actorOf(principal),
      action: 'seal',
      outcome: 'ok',
      target: 'keyservice',
    });
    return this.status();
  }

  /** Overwrites the root key in memory, ends any unseal round, and tells the listeners. */
  forgetRootKey(): void {
    this.state.seal();
    for (const listener of this.sealListeners) listener();
  }
}
