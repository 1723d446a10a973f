import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorReply, MessageListQuery, MessageListReply, type MessageView } from '@cz/contracts';
import { badRequest } from '@cz/common';
import { appendAudit } from '../audit';
import { conversationCondition, loadAccess } from '../scope';
import { MESSAGE_COLUMNS, type MessageDbRow } from '../search/records';
import { messageView } from '../search/views';
import {
  integrityContext,
  isIntegrityError,
  messageBinding,
  openMessageRecord,
  reportIntegrityFailure,
  unreadableMessageView,
} from '../integrity';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/messages',
    {
      preHandler: app.requireUser('auditor', 'risk_officer', 'admin'),
      schema: {
        querystring: MessageListQuery,
        response: { 200: MessageListReply, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply },
      },
    },
    async (request) => {
      const { employee, from, to, cursor } = request.query;
      const limit = request.query.limit ?? 50;
      const fromDate = from ? new Date(from) : undefined;
      const toDate = to ? new Date(to) : undefined;
      if (fromDate && toDate && fromDate >= toDate)
        throw badRequest('bad_range', '`from` must be earlier than `to`');
      const fingerprint = createHash('sm3')
        .update(JSON.stringify([employee ?? null, from ?? null, to ?? null]))
        .digest('hex')
        .slice(0, 16);
      const position = cursor ? app.cursors.decode(cursor, fingerprint) : undefined;

      // Keyset on (msgtime desc, id desc). An employee matches as sender or recipient; the UNION
      // lets each side use its own (person, time) index.
      const conditions: string[] = [];
      const params: unknown[] = [];
      // REG-05: only conversations of the user's data scope (nothing without one)
      const scope = conversationCondition(
        await loadAccess(app.db, request.user!),
        'm.corp_id',
        'm.conversation_id',
      );
      if (scope === false) conditions.push('FALSE');
      else if (scope) {
        conditions.push(scope.sql);
        params.push(...scope.params);
      }
      if (fromDate) {
        conditions.push('m.msgtime >= ?');
        params.push(fromDate);
      }
      if (toDate) {
        conditions.push('m.msgtime < ?');
        params.push(toDate);
      }
      if (position) {
        conditions.push('(m.msgtime < ? OR (m.msgtime = ? AND m.id < ?))');
        params.push(new Date(position.t), new Date(position.t), position.id);
      }
      const where = (extra: string[]) => {
        const all = [...extra, ...conditions];
        return all.length ? `WHERE ${all.join(' AND ')}` : '';
      };
      let sql: string;
      let sqlParams: unknown[];
      if (employee) {
        sql = `
          SELECT * FROM (
            (SELECT ${MESSAGE_COLUMNS} FROM message m ${where(['m.sender = ?'])} ORDER BY m.msgtime DESC, m.id DESC LIMIT ?)
            UNION
            (SELECT ${MESSAGE_COLUMNS} FROM message_recipient r JOIN message m ON m.id = r.message_id
              ${where(['r.recipient = ?'])} ORDER BY m.msgtime DESC, m.id DESC LIMIT ?)
          ) AS page ORDER BY msgtime DESC, id DESC LIMIT ?`;
        sqlParams = [employee, ...params, limit + 1, employee, ...params, limit + 1, limit + 1];
      } else {
        sql = `SELECT ${MESSAGE_COLUMNS} FROM message m ${where([])} ORDER BY m.msgtime DESC, m.id DESC LIMIT ?`;
        sqlParams = [...params, limit + 1];
      }
      const rows: MessageDbRow[] = await app.db.query(sql, sqlParams);
      const page = rows.slice(0, limit);

      const items: MessageView[] = [];
      for (const row of page) {
        try {
          items.push(messageView(row, await openMessageRecord(app.keys, row)));
        } catch (err) {
          if (!isIntegrityError(err)) throw err;
          await reportIntegrityFailure(integrityContext(app.db, request), messageBinding(row), err);
          items.push(unreadableMessageView(row, err));
        }
      }
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > limit && last
          ? app.cursors.encode({ t: new Date(last.msgtime).getTime(), id: last.id }, fingerprint)
          : null;

      // Every read of archived content by a person is recorded, with what was shown.
      await appendAudit(app.db, {
        actor: request.user?.username ?? 'unknown',
        action: 'message.list',
        target: employee ? `employee:${employee}` : 'messages',
        detail: {
          filters: { employee: employee ?? null, from: from ?? null, to: to ?? null },
          count: items.length,
          ids: items.map((i) => i.id),
        },
      });
      return { items, nextCursor };
    },
  );
};

export default routes;
