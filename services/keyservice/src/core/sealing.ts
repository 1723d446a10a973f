import { createHash, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AppError } from '@cz/common';
import type {
  EnrolOfficerRequest,
  KeyInitReply,
  KeyInitRequest,
  KeyServiceStatus,
  OfficerView,
} from '@cz/contracts';
import type { AuditTrail } from './audit-trail';
import { newToken, publicKeyFingerprint, type Credentials } from './credentials';
import { encryptToOfficer, isSm2PublicKey } from './officer-envelope';
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
    private readonly bootstrapSecret: string | undefined,
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
    const checks = await this.db.query<{ x: number; check_hash: string; officer: string | null }[]>(
      'SELECT x, check_hash, officer FROM ks_share_check',
    );
    this.config = {
      threshold: row.threshold,
      shareCount: row.share_count,
      rootCheck: row.root_check,
      shareChecks: new Map(checks.map((c) => [Number(c.x), c.check_hash])),
      shareOwners: new Map(checks.map((c) => [Number(c.x), c.officer])),
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
   * Checks the deployment's one-time bootstrap secret (constant time, over SM3 digests so lengths
   * do not leak either). Refused when none is configured or the service is already initialised:
   * after init the secret opens nothing.
   */
  private async requireBootstrapSecret(action: string, presented: string): Promise<void> {
    const fail = async (status: number, code: string, message: string) =>
      this.audit.refuse(null, action, 'keyservice', new AppError(status, code, message));
    if (await this.loadConfig()) {
      throw await fail(
        409,
        'already_initialized',
        'the key service is already initialised; the bootstrap secret is used up',
      );
    }
    if (!this.bootstrapSecret) {
      throw await fail(
        403,
        'bootstrap_disabled',
        'no bootstrap secret is configured (CZ_KEYS_BOOTSTRAP_SECRET): enrolment and init are off',
      );
    }
    const digest = (value: string) => createHash('sm3').update(value, 'utf8').digest();
    if (!timingSafeEqual(digest(presented), digest(this.bootstrapSecret))) {
      throw await fail(401, 'wrong_bootstrap_secret', 'the bootstrap secret does not match');
    }
  }

  /** Before init: an officer enrols their SM2 public key (their share will be encrypted to it). */
  async enrol(request: EnrolOfficerRequest): Promise<OfficerView> {
    await this.requireBootstrapSecret('officer.enrol', request.bootstrapSecret);
    const target = `officer:${request.name}`;
    if (!isSm2PublicKey(request.publicKey)) {
      throw await this.audit.refuse(
        null,
        'officer.enrol',
        target,
        new AppError(400, 'invalid_public_key', 'not an SM2 public key (04 ‖ X ‖ Y on the curve)'),
      );
    }
    await this.audit.audited(null, 'officer.enrol', target, () =>
      this.db.transaction(async (tx) => {
        await this.credentials.enrolOfficer(tx, request.name, request.publicKey);
        await this.audit.record(
          {
            actor: 'anonymous',
            action: 'officer.enrol',
            outcome: 'ok',
            target,
            detail: { fingerprint: publicKeyFingerprint(request.publicKey) },
          },
          tx,
        );
      }),
    );
    const officer = (await this.credentials.listOfficers()).find((o) => o.name === request.name);
    return officer!;
  }

  /**
   * Generates the root key, splits it into one share per enrolled officer, creates version 1 of
   * every keyring and each officer's credential. The reply holds only ciphertexts: each officer's
   * share and credential encrypted to that officer's SM2 key, so whoever runs init sees neither.
   * No service caller is issued here (that is dual control: POST /v1/callers). The service stays
   * sealed: officers unseal it with their shares like after any restart.
   */
  async init(request: KeyInitRequest): Promise<KeyInitReply> {
    const target = 'keyservice';
    await this.requireBootstrapSecret('init', request.bootstrapSecret);
    const officers = await this.credentials.enrolledOfficers();
    if (officers.length < 2 || request.threshold > officers.length) {
      throw await this.audit.refuse(
        null,
        'init',
        target,
        new AppError(
          400,
          'invalid_init',
          `${officers.length} officers are enrolled: init needs at least 2 and a threshold of at most that many`,
        ),
      );
    }
    const root = newRootKey();
    const shares = await splitRootKey(root, officers.length, request.threshold);
    try {
      const packages = officers.map((officer, i) => {
        const share = shares[i]!;
        const token = newToken('cko');
        return {
          name: officer.name,
          x: share[share.length - 1]!,
          check: shareCheckValue(share),
          token,
          encryptedShare: encryptToOfficer(share.toString('base64url'), officer.publicKey),
          encryptedCredential: encryptToOfficer(token, officer.publicKey),
        };
      });
      const now = new Date();
      try {
        await this.db.transaction(async (tx) => {
          await tx.query(
            'INSERT INTO ks_config (id, threshold, share_count, root_check, initialized_at) VALUES (1, ?, ?, ?, ?)',
            [request.threshold, officers.length, rootCheckValue(root), now],
          );
          for (const p of packages) {
            await tx.query('INSERT INTO ks_share_check (x, check_hash, officer) VALUES (?, ?, ?)', [
              p.x,
              p.check,
              p.name,
            ]);
            await this.credentials.activateOfficer(tx, p.name, p.token);
          }
          await createFirstKeyrings(tx, root, now);
          await this.audit.record(
            {
              actor: 'anonymous',
              action: 'init',
              outcome: 'ok',
              target,
              detail: {
                shares: officers.length,
                threshold: request.threshold,
                officers: packages.map((p) => ({ name: p.name, shareX: p.x })),
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
      this.config = undefined;
      return {
        threshold: request.threshold,
        shares: officers.length,
        officers: packages.map(({ name, encryptedShare, encryptedCredential }) => ({
          name,
          encryptedShare,
          encryptedCredential,
        })),
      };
    } finally {
      root.fill(0);
      for (const share of shares) share.fill(0);
    }
  }

  /**
   * One share per call, from the officer it was issued to (their credential authenticates the
   * call; a share of another officer, or from a revoked one, is refused). `reset` abandons the
   * round in progress, also an officer's call only.
   */
  async unseal(officer: Principal, input: { share: string } | { reset: true }): Promise<KeyServiceStatus> {
    const config = await this.loadConfig();
    if (!config) {
      throw await this.audit.refuse(
        officer,
        'unseal',
        'keyservice',
        new AppError(409, 'not_initialized', 'the key service has not been initialised (keys init)'),
      );
    }
    if ('reset' in input) {
      this.state.reset();
      await this.audit.record({
        actor: actorOf(officer),
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
      const owner = x === undefined ? undefined : config.shareOwners.get(x);
      // shares of a service initialised before enrolment existed have no owner: any officer
      if (owner && owner !== officer.name) {
        share.fill(0);
        throw new AppError(
          403,
          'not_your_share',
          'this share was issued to another officer: each officer submits their own share',
        );
      }
      const outcome = await this.state.submit(share, config);
      share.fill(0);
      await this.audit.record({
        actor: actorOf(officer),
        action: outcome.unsealed ? 'unseal.complete' : 'unseal.share',
        outcome: 'ok',
        target: 'keyservice',
        detail: { shareX: outcome.x, progress: outcome.progress, threshold: config.threshold },
      });
    } catch (err) {
      if (err instanceof AppError) {
        throw await this.audit.refuse(officer, 'unseal.share', 'keyservice', err, {
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
