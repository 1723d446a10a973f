import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AlertActionRequest,
  AlertParams,
  BulkAlertActionReply,
  BulkAlertActionRequest,
  ComplianceAlertDetail,
  ComplianceAlertListReply,
  ComplianceAlertQuery,
  ComplianceAlertView,
  ErrorReply,
} from '@cz/contracts';
import { AppError, badRequest, notFound } from '@cz/common';
import { appendAudit } from '../audit';
import { integrityContext } from '../integrity';
import { loadAccess } from '../scope';
import {
  alertCounts,
  alertExists,
  alertHistory,
  alertPage,
  alertView,
  findAlert,
  planAlertList,
} from '../compliance/alerts';
import { applyAlertAction, missingNote, noteText, type ActionOutcome } from '../compliance/alert-actions';

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply };
const READERS = ['auditor', 'risk_officer', 'admin'] as const;
const ACTORS = ['risk_officer', 'admin'] as const;

/**
 * The compliance alert inbox and its workflow (告警中心), within the caller's data scope (REG-05):
 * an alert outside it does not exist for the caller (404, never 403, so ids cannot be probed).
 * Every list, detail and action is in the audit trail (never a note's text). `GET/PUT
 * /v1/alerts/sla` lives with the notification routes.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const missing = (id: string) => notFound(`no alert ${id}`);

  /** An out-of-scope attempt on an existing alert is on record; the caller only sees a 404. */
  const auditDenied = async (actor: string, action: string, id: string) => {
    if (!(await alertExists(app.db, id))) return;
    await appendAudit(app.db, {
      actor,
      action,
      target: `compliance_alert:${id}`,
      detail: { reason: 'out_of_scope' },
    });
  };

  app.get(
    '/v1/alerts',
    {
      preHandler: app.requireUser(...READERS),
      schema: { querystring: ComplianceAlertQuery, response: { 200: ComplianceAlertListReply, ...errors } },
    },
    async (request) => {
      const user = request.user!;
      const now = new Date();
      const access = await loadAccess(app.db, user);
      const plan = await planAlertList(app.db, access, request.query, now);
      const after = request.query.cursor
        ? app.cursors.decode(request.query.cursor, plan.fingerprint)
        : undefined;
      const rows = await alertPage(app.db, plan, after);
      const page = rows.slice(0, plan.limit);
      const integrity = integrityContext(app.db, request);
      const items: ComplianceAlertView[] = [];
      for (const row of page) items.push(await alertView(app.keys, integrity, row, now.getTime()));
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > plan.limit && last
          ? app.cursors.encode({ t: new Date(last.raised_at).getTime(), id: last.id }, plan.fingerprint)
          : null;
      const counts = await alertCounts(app.db, plan, now);

      // reading the inbox is reading metadata about archived records: one entry per request
      const { cursor, limit, ...filters } = request.query;
      await appendAudit(app.db, {
        actor: user.username,
        action: 'alert.list',
        target: 'alerts',
        detail: {
          filters,
          page: cursor ? 'next' : 'first',
          limit: limit ?? 50,
          count: items.length,
          ids: items.map((i) => i.id),
        },
      });
      return { items, nextCursor, counts };
    },
  );

  app.get(
    '/v1/alerts/:id',
    {
      preHandler: app.requireUser(...READERS),
      schema: { params: AlertParams, response: { 200: ComplianceAlertDetail, ...errors, 404: ErrorReply } },
    },
    async (request) => {
      const user = request.user!;
      const { id } = request.params;
      const row = await findAlert(app.db, await loadAccess(app.db, user), id);
      if (!row) {
        await auditDenied(user.username, 'alert.view_denied', id);
        throw missing(id);
      }
      const integrity = integrityContext(app.db, request);
      const view = await alertView(app.keys, integrity, row);
      const history = await alertHistory(app.db, app.keys, integrity, row);
      await appendAudit(app.db, {
        actor: user.username,
        action: 'alert.view',
        target: `compliance_alert:${id}`,
        detail: {
          corpId: row.corp_id,
          recordKind: row.record_kind,
          archiveId: row.archive_id,
          events: history.length,
        },
      });
      return { ...view, history };
    },
  );

  app.post(
    '/v1/alerts/:id/actions',
    {
      preHandler: app.requireUser(...ACTORS),
      schema: {
        params: AlertParams,
        body: AlertActionRequest,
        response: { 200: ComplianceAlertView, ...errors, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const user = request.user!;
      const { id } = request.params;
      const { action } = request.body;
      const note = noteText(request.body.note);
      if (missingNote(action, note)) throw badRequest('note_required', `${action} needs a note`);
      const access = await loadAccess(app.db, user);
      const outcome = await applyAlertAction(
        { db: app.db, keys: app.keys, access, actor: user.username },
        id,
        action,
        note,
      );
      if (!outcome.ok) {
        if (outcome.error === 'not_found') {
          await auditDenied(user.username, 'alert.action_denied', id);
          throw missing(id);
        }
        throw new AppError(
          409,
          'invalid_transition',
          `cannot ${action} an alert that is ${outcome.status ?? 'in this state'}`,
        );
      }
      await appendAudit(app.db, {
        actor: user.username,
        action: 'alert.action',
        target: `compliance_alert:${id}`,
        detail: {
          corpId: outcome.alert.corp_id,
          action,
          from: outcome.from,
          to: outcome.to,
          noted: note !== null,
        },
      });
      const row = await findAlert(app.db, access, id);
      if (!row) throw missing(id);
      return alertView(app.keys, integrityContext(app.db, request), row);
    },
  );

  app.post(
    '/v1/alerts/actions',
    {
      preHandler: app.requireUser(...ACTORS),
      schema: { body: BulkAlertActionRequest, response: { 200: BulkAlertActionReply, ...errors } },
    },
    async (request) => {
      const user = request.user!;
      const { action } = request.body;
      const note = noteText(request.body.note);
      const ids = [...new Set(request.body.ids)];
      const access = await loadAccess(app.db, user);
      const ctx = { db: app.db, keys: app.keys, access, actor: user.username };
      const results: BulkAlertActionReply['results'] = [];
      for (const id of ids) {
        const outcome: ActionOutcome = await applyAlertAction(ctx, id, action, note);
        results.push(
          outcome.ok
            ? { id, ok: true, status: outcome.to }
            : { id, ok: false, error: outcome.error, ...(outcome.status ? { status: outcome.status } : {}) },
        );
      }
      // one entry for the request: which alerts, what was done to each (never the note's text)
      await appendAudit(app.db, {
        actor: user.username,
        action: 'alert.bulk_action',
        target: 'alerts',
        detail: {
          action,
          noted: note !== null,
          applied: results.filter((r) => r.ok).map((r) => r.id),
          refused: results.filter((r) => !r.ok).map((r) => ({ id: r.id, error: r.error })),
        },
      });
      return { results };
    },
  );
};

export default routes;
