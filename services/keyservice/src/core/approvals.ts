import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';
import type { DataClass } from '@cz/common/crypto';
import type { CreateKeyRequest, KeyRequestStatus, KeyRequestView } from '@cz/contracts';
import type { AuditTrail } from './audit-trail';
import { isCustodyKind, type Custody, type CustodyParams } from './custody';
import type { DataKeys } from './data-keys';
import type { Keyrings } from './keyrings';
import { kekIdOf } from './material';
import { actorOf, type Principal } from './principal';

interface RequestRow {
  id: string;
  kind: KeyRequestView['kind'];
  /** null for caller and officer requests */
  data_class: DataClass | null;
  params: string | Record<string, unknown>;
  reason: string;
  status: KeyRequestStatus;
  requested_by: string;
  requested_at: Date;
  expires_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  result: string | Record<string, unknown> | null;
  decision_reason: string | null;
  credential_state: 'none' | 'waiting' | 'collected';
}

const parseJson = <T>(value: string | T): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
const iso = (value: Date | string) => new Date(value).toISOString();

const requestView = (row: RequestRow): KeyRequestView => ({
  id: row.id,
  kind: row.kind,
  dataClass: row.data_class,
  params: parseJson<Record<string, unknown>>(row.params),
  reason: row.reason,
  status: row.status,
  requestedBy: row.requested_by,
  requestedAt: iso(row.requested_at),
  expiresAt: iso(row.expires_at),
  decidedBy: row.decided_by,
  decidedAt: row.decided_at ? iso(row.decided_at) : null,
  result: row.result === null ? null : parseJson<Record<string, unknown>>(row.result),
  decisionReason: row.decision_reason,
  credential: row.credential_state,
});

/**
 * Dual control (ks_request): one officer requests a keyring change, a different officer approves
 * it, and the approval executes it in the same transaction. Requests expire after `requestTtlMs`.
 */
export class Approvals {
  constructor(
    private readonly db: DataSource,
    private readonly requestTtlMs: number,
    private readonly keyrings: Keyrings,
    private readonly dataKeys: DataKeys,
    private readonly audit: AuditTrail,
    private readonly custody: Custody,
  ) {}

  async createRequest(officer: Principal, body: CreateKeyRequest): Promise<KeyRequestView> {
    return this.audit.audited(officer, `request.create.${body.kind}`, kekIdOf(body.dataClass), async () => {
      const params = this.requestParams(body);
      await this.checkExecutable(body.kind, body.dataClass, params);
      const id = randomBytes(16).toString('hex');
      const now = new Date();
      await this.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO ks_request (id, kind, data_class, params, reason, status, requested_by, requested_at, expires_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
          [
            id,
            body.kind,
            body.dataClass,
            JSON.stringify(params),
            body.reason,
            officer.name,
            now,
            new Date(now.getTime() + this.requestTtlMs),
          ],
        );
        await this.audit.record(
          {
            actor: actorOf(officer),
            action: `request.create.${body.kind}`,
            outcome: 'ok',
            target: `request:${id}`,
            detail: { dataClass: body.dataClass, params, reason: body.reason },
          },
          tx,
        );
      });
      return this.getRequest(id);
    });
  }

  async getRequest(id: string): Promise<KeyRequestView> {
    const [row] = await this.db.query<RequestRow[]>('SELECT * FROM ks_request WHERE id = ?', [id]);
    if (!row) throw new AppError(404, 'request_not_found', `no request ${id}`);
    return requestView(row);
  }

  async listRequests(status?: KeyRequestStatus): Promise<KeyRequestView[]> {
    const rows = await this.db.query<RequestRow[]>(
      `SELECT * FROM ks_request ${status ? 'WHERE status = ?' : ''} ORDER BY requested_at DESC LIMIT 200`,
      status ? [status] : [],
    );
    return rows.map(requestView);
  }

  /**
   * The second officer's approval executes the request in the same transaction. Refused, with
   * nothing changed and the attempt audited: unknown id, a request no longer pending (a replayed
   * approval), an expired one, approval by the officer who requested it, a failed precondition.
   */
  async approve(officer: Principal, id: string): Promise<KeyRequestView> {
    return this.audit.audited(officer, 'request.approve', `request:${id}`, async () => {
      await this.db.transaction(async (tx) => {
        const [row] = await tx.query<RequestRow[]>('SELECT * FROM ks_request WHERE id = ? FOR UPDATE', [id]);
        if (!row) throw new AppError(404, 'request_not_found', `no request ${id}`);
        if (row.status !== 'pending') {
          throw new AppError(
            409,
            'request_not_pending',
            `request ${id} is already ${row.status}; an approval counts once`,
          );
        }
        if (new Date(row.expires_at).getTime() < Date.now()) {
          throw new AppError(
            410,
            'request_expired',
            `request ${id} expired at ${iso(row.expires_at)}; request again`,
          );
        }
        if (row.requested_by === officer.name) {
          throw new AppError(
            403,
            'same_officer',
            'dual control: the approver must be a different officer than the requester',
          );
        }
        const params = parseJson<Record<string, unknown>>(row.params);
        let result: Record<string, unknown>;
        let credentialCiphertext: string | null = null;
        if (isCustodyKind(row.kind)) {
          const outcome = await this.custody.execute(
            tx,
            row.kind,
            params as unknown as CustodyParams,
            row.requested_by,
            officer,
          );
          result = outcome.result;
          credentialCiphertext = outcome.credentialCiphertext ?? null;
        } else {
          result = await this.execute(tx, row.kind, row.data_class!, params, actorOf(officer));
        }
        await tx.query(
          `UPDATE ks_request SET status = 'executed', decided_by = ?, decided_at = ?, result = ?,
             credential_ciphertext = ?, credential_state = ? WHERE id = ?`,
          [
            officer.name,
            new Date(),
            JSON.stringify(result),
            credentialCiphertext,
            credentialCiphertext ? 'waiting' : 'none',
            id,
          ],
        );
        await this.audit.record(
          {
            actor: actorOf(officer),
            action: `request.approve.${row.kind}`,
            outcome: 'ok',
            target: `request:${id}`,
            detail: { dataClass: row.data_class, params, requestedBy: row.requested_by, result },
          },
          tx,
        );
      });
      this.keyrings.forgetRings();
      return this.getRequest(id);
    });
  }

  /** Rejection by any officer (the requester withdraws their own this way), with a reason. */
  async reject(officer: Principal, id: string, reason = ''): Promise<KeyRequestView> {
    return this.audit.audited(officer, 'request.reject', `request:${id}`, async () => {
      await this.db.transaction(async (tx) => {
        const [row] = await tx.query<RequestRow[]>('SELECT * FROM ks_request WHERE id = ? FOR UPDATE', [id]);
        if (!row) throw new AppError(404, 'request_not_found', `no request ${id}`);
        if (row.status !== 'pending')
          throw new AppError(409, 'request_not_pending', `request ${id} is already ${row.status}`);
        await tx.query(
          "UPDATE ks_request SET status = 'rejected', decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ?",
          [officer.name, new Date(), reason || null, id],
        );
        await this.audit.record(
          {
            actor: actorOf(officer),
            action: 'request.reject',
            outcome: 'ok',
            target: `request:${id}`,
            detail: { kind: row.kind, reason },
          },
          tx,
        );
      });
      return this.getRequest(id);
    });
  }

  private requestParams(body: CreateKeyRequest): Record<string, unknown> {
    const need = <T>(value: T | undefined, name: string): T => {
      if (value === undefined) throw new AppError(400, 'invalid_request', `${body.kind} needs ${name}`);
      return value;
    };
    switch (body.kind) {
      case 'rotate':
        return {};
      case 'set_min_decryption_version':
        return { version: need(body.version, 'version') };
      case 'set_auto_rotate_period':
        return { periodSeconds: need(body.periodSeconds, 'periodSeconds') };
      case 'set_deletion_allowed':
        return { allowed: need(body.allowed, 'allowed') };
      case 'destroy_data_keys': {
        const before = need(body.before, 'before');
        if (Number.isNaN(Date.parse(`${before}T00:00:00Z`)))
          throw new AppError(400, 'invalid_request', 'before is not a date');
        if (before > this.dataKeys.dayOf().day) {
          throw new AppError(400, 'invalid_request', "before may not lie after today: today's key is in use");
        }
        return { before };
      }
    }
  }

  /** Checks that would make the approval fail, run both when requesting and when approving. */
  private async checkExecutable(
    kind: CreateKeyRequest['kind'],
    dataClass: DataClass,
    params: Record<string, unknown>,
    tx?: EntityManager,
  ): Promise<void> {
    const ring = await this.keyrings.keyring(dataClass, true, tx);
    if (kind === 'set_min_decryption_version') {
      const version = Number(params.version);
      if (version > ring.latestVersion) {
        throw new AppError(
          400,
          'invalid_version',
          `version ${version} does not exist (latest is ${ring.latestVersion})`,
        );
      }
    }
    if (kind === 'destroy_data_keys' && !ring.deletionAllowed) {
      throw new AppError(
        409,
        'deletion_not_allowed',
        `deletion is not allowed on keyring ${dataClass}; it must first be allowed (set_deletion_allowed, dual control)`,
      );
    }
    // retention minimum and legal holds: when requested, and again inside the approval's transaction
    if (kind === 'destroy_data_keys')
      await this.dataKeys.assertDestroyable(dataClass, String(params.before), tx);
  }

  private async execute(
    tx: EntityManager,
    kind: CreateKeyRequest['kind'],
    dataClass: DataClass,
    params: Record<string, unknown>,
    actor: string,
  ): Promise<Record<string, unknown>> {
    await this.checkExecutable(kind, dataClass, params, tx);
    switch (kind) {
      case 'rotate':
        return this.keyrings.rotateIn(tx, dataClass, actor);
      case 'set_min_decryption_version': {
        const version = Number(params.version);
        const pending = await this.dataKeys.countWrappedBelow(tx, dataClass, version);
        if (pending > 0) {
          throw new AppError(
            409,
            'rewrap_required',
            `${pending} stored data keys of ${dataClass} are still wrapped under versions below ${version}: run rewrap first`,
          );
        }
        await tx.query('UPDATE ks_keyring SET min_decryption_version = ? WHERE data_class = ?', [
          version,
          dataClass,
        ]);
        this.keyrings.forgetVersionsBelow(dataClass, version);
        return { minDecryptionVersion: version };
      }
      case 'set_auto_rotate_period':
        await tx.query('UPDATE ks_keyring SET auto_rotate_seconds = ? WHERE data_class = ?', [
          Number(params.periodSeconds),
          dataClass,
        ]);
        return { autoRotatePeriodSeconds: Number(params.periodSeconds) };
      case 'set_deletion_allowed':
        await tx.query('UPDATE ks_keyring SET deletion_allowed = ? WHERE data_class = ?', [
          params.allowed ? 1 : 0,
          dataClass,
        ]);
        return { deletionAllowed: Boolean(params.allowed) };
      case 'destroy_data_keys': {
        // what was destroyed (class, months, counts), never key bytes: the result is audited
        return { ...(await this.dataKeys.destroyBefore(tx, dataClass, String(params.before), actor)) };
      }
    }
  }
}
