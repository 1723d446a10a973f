import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';
import type { DataClass } from '@cz/common/crypto';
import type { CallerOperation, CollectedCredential, CustodyRequestKind } from '@cz/contracts';
import type { AuditTrail } from './audit-trail';
import type { Credentials, Grants } from './credentials';
import { encryptToOfficer } from './officer-envelope';
import { actorOf, type Principal } from './principal';

/** Whether a request kind is about callers or officers (executed here, not by the keyrings). */
export const isCustodyKind = (kind: string): kind is CustodyRequestKind =>
  kind.startsWith('caller.') || kind === 'officer.revoke';

/** Dual control needs a requester and a different approver. */
const MIN_ACTIVE_OFFICERS = 2;

export interface CustodyParams {
  name: string;
  classes?: DataClass[];
  operations?: CallerOperation[];
  corps?: string[];
}

export interface CustodyOutcome {
  result: Record<string, unknown>;
  /** caller.issue / caller.reissue: the credential, encrypted to the requesting officer */
  credentialCiphertext?: string;
}

/**
 * Who may call the key service, under dual control: issuing, re-issuing, widening and revoking a
 * service caller, and revoking an officer, are requests (ks_request) by one officer that another
 * approves (Approvals checks who decides; this part checks and executes). A new credential is
 * never shown to anyone in the clear: it is encrypted to the requesting officer's enrolled SM2 key
 * and collectable once by that officer; the key service keeps only its hash.
 */
export class Custody {
  constructor(
    private readonly db: DataSource,
    private readonly requestTtlMs: number,
    private readonly credentials: Credentials,
    private readonly audit: AuditTrail,
  ) {}

  /** Files a request; every refusal is audited. Returns the request's id. */
  async request(
    officer: Principal,
    kind: CustodyRequestKind,
    params: CustodyParams,
    reason: string,
  ): Promise<string> {
    const target = `${kind === 'officer.revoke' ? 'officer' : 'service'}:${params.name}`;
    return this.audit.audited(officer, `request.create.${kind}`, target, async () => {
      await this.checkExecutable(this.db, kind, params);
      if (kind === 'caller.issue' || kind === 'caller.reissue') {
        // the credential will be delivered to the requester: they need an enrolled key
        if (!(await this.credentials.officerPublicKey(officer.name))) {
          throw new AppError(
            409,
            'no_officer_key',
            `officer ${officer.name} has no enrolled SM2 key to receive the credential (keys register-key)`,
          );
        }
      }
      const id = randomBytes(16).toString('hex');
      const now = new Date();
      await this.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO ks_request (id, kind, data_class, params, reason, status, requested_by, requested_at, expires_at)
           VALUES (?, ?, NULL, ?, ?, 'pending', ?, ?, ?)`,
          [
            id,
            kind,
            JSON.stringify(params),
            reason,
            officer.name,
            now,
            new Date(now.getTime() + this.requestTtlMs),
          ],
        );
        await this.audit.record(
          {
            actor: actorOf(officer),
            action: `request.create.${kind}`,
            outcome: 'ok',
            target: `request:${id}`,
            detail: { ...params, reason },
          },
          tx,
        );
      });
      return id;
    });
  }

  /** Runs inside the approval's transaction, after Approvals checked the approver. */
  async execute(
    tx: EntityManager,
    kind: CustodyRequestKind,
    params: CustodyParams,
    requestedBy: string,
    approver: Principal,
  ): Promise<CustodyOutcome> {
    await this.checkExecutable(tx, kind, params);
    const issuedBy = `${requestedBy}+${approver.name}`;
    switch (kind) {
      case 'caller.issue':
      case 'caller.reissue': {
        const publicKey = await this.credentials.officerPublicKey(requestedBy, tx);
        if (!publicKey) {
          throw new AppError(
            409,
            'no_officer_key',
            `officer ${requestedBy} can no longer receive the credential`,
          );
        }
        const token =
          kind === 'caller.issue'
            ? await this.credentials.issueService(tx, params.name, grantsOf(params), issuedBy)
            : await this.credentials.reissueService(tx, params.name, issuedBy);
        return {
          result: { name: params.name, credential: `encrypted to officer ${requestedBy}` },
          credentialCiphertext: encryptToOfficer(token, publicKey),
        };
      }
      case 'caller.widen':
        return {
          result: { name: params.name, ...(await this.credentials.widenService(tx, params.name, params)) },
        };
      case 'caller.revoke':
        await this.credentials.revoke(tx, 'service', params.name, issuedBy);
        return { result: { name: params.name, revoked: true } };
      case 'officer.revoke': {
        await this.credentials.revoke(tx, 'officer', params.name, issuedBy);
        // what a revoked officer asked for no longer has a requester standing behind it
        const withdrawn = await tx.query<{ affectedRows: number }>(
          `UPDATE ks_request SET status = 'rejected', decided_by = ?, decided_at = ?, decision_reason = ?
           WHERE requested_by = ? AND status = 'pending'`,
          [approver.name, new Date(), `requester ${params.name} was revoked`, params.name],
        );
        return {
          result: { name: params.name, revoked: true, pendingRequestsRejected: withdrawn.affectedRows },
        };
      }
    }
  }

  /**
   * The requesting officer collects an approved credential, once: the ciphertext is returned and
   * erased. Anyone else, a second collection, or a request without one, is refused and audited.
   */
  async collect(officer: Principal, id: string): Promise<CollectedCredential> {
    return this.audit.audited(officer, 'request.credential.collect', `request:${id}`, async () =>
      this.db.transaction(async (tx) => {
        const [row] = await tx.query<
          {
            kind: string;
            params: string | CustodyParams;
            requested_by: string;
            credential_state: string;
            credential_ciphertext: string | null;
          }[]
        >(
          'SELECT kind, params, requested_by, credential_state, credential_ciphertext FROM ks_request WHERE id = ? FOR UPDATE',
          [id],
        );
        if (!row) throw new AppError(404, 'request_not_found', `no request ${id}`);
        if (row.requested_by !== officer.name) {
          throw new AppError(
            403,
            'not_requester',
            'only the officer who requested it collects the credential',
          );
        }
        if (row.credential_state === 'collected') {
          throw new AppError(
            409,
            'credential_collected',
            'this credential was already collected; request a re-issue',
          );
        }
        if (row.credential_state !== 'waiting' || !row.credential_ciphertext) {
          throw new AppError(404, 'no_credential', `request ${id} has no credential to collect`);
        }
        const params =
          typeof row.params === 'string' ? (JSON.parse(row.params) as CustodyParams) : row.params;
        await tx.query(
          "UPDATE ks_request SET credential_state = 'collected', credential_ciphertext = NULL WHERE id = ?",
          [id],
        );
        await this.audit.record(
          {
            actor: actorOf(officer),
            action: 'request.credential.collect',
            outcome: 'ok',
            target: `request:${id}`,
            detail: { kind: row.kind, name: params.name },
          },
          tx,
        );
        return { name: params.name, encryptedToken: row.credential_ciphertext };
      }),
    );
  }

  /** Checks that would make the approval fail, run when requesting and again when approving. */
  private async checkExecutable(
    db: DataSource | EntityManager,
    kind: CustodyRequestKind,
    params: CustodyParams,
  ): Promise<void> {
    switch (kind) {
      case 'caller.issue':
        await this.credentials.requireNoCaller(db, params.name);
        return;
      case 'caller.reissue':
        await this.credentials.requireCaller(db, params.name);
        return;
      case 'caller.widen': {
        const caller = await this.credentials.requireCaller(db, params.name);
        if (caller.revoked) throw new AppError(409, 'caller_revoked', `caller ${params.name} is revoked`);
        const grants = grantsOf(params);
        if (grants.classes.length + grants.operations.length + grants.corps.length === 0) {
          throw new AppError(400, 'invalid_request', 'widen needs classes, operations or corps to add');
        }
        return;
      }
      case 'caller.revoke': {
        const caller = await this.credentials.requireCaller(db, params.name);
        if (caller.revoked)
          throw new AppError(409, 'caller_revoked', `caller ${params.name} is already revoked`);
        return;
      }
      case 'officer.revoke': {
        const [row] = await db.query<{ active: number; target: number }[]>(
          `SELECT SUM(disabled = 0 AND token_hash IS NOT NULL) AS active,
                  SUM(name = ? AND disabled = 0 AND token_hash IS NOT NULL) AS target
           FROM ks_principal WHERE kind = 'officer'`,
          [params.name],
        );
        if (!row || Number(row.target) !== 1) {
          throw new AppError(404, 'officer_not_found', `no active officer ${params.name}`);
        }
        if (Number(row.active) - 1 < MIN_ACTIVE_OFFICERS) {
          throw new AppError(
            409,
            'too_few_officers',
            `revoking ${params.name} would leave fewer than ${MIN_ACTIVE_OFFICERS} officers: dual control would end`,
          );
        }
        return;
      }
    }
  }
}

const grantsOf = (params: CustodyParams): Grants => ({
  classes: params.classes ?? [],
  operations: params.operations ?? [],
  corps: params.corps ?? [],
});
