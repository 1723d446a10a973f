import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ConversationParams,
  ConversationQuery,
  ConversationReply,
  ErrorReply,
  type ConversationParticipant,
} from '@cz/contracts';
import { badRequest, notFound } from '@cz/common';
import type { KeysetPosition } from '../cursor';
import { appendAudit } from '../audit';
import { customerRefs, maskExternalId } from '../directory';
import { canSeeConversation, loadAccess } from '../scope';
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
import { alertTags } from '../search/alerts';

const MAX_PARTICIPANTS = 200;

/**
 * `GET /v1/conversations/:corpId/:conversationId`: a conversation's messages in time order around
 * a message (`around`), a time (`at`) or its end, with media references and recall flags, plus
 * the participants (customers masked, with their opaque reference). Pages on with signed cursors
 * in both directions. Every view is recorded in the audit trail.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/conversations/:corpId/:conversationId',
    {
      preHandler: app.requireUser('auditor', 'risk_officer', 'admin'),
      schema: {
        params: ConversationParams,
        querystring: ConversationQuery,
        response: {
          200: ConversationReply,
          400: ErrorReply,
          401: ErrorReply,
          403: ErrorReply,
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const { corpId, conversationId } = request.params;
      const q = request.query;
      const before = q.before ?? 20;
      const after = q.after ?? 20;
      const [conversation] = await app.db.query<
        {
          kind: 'single' | 'group';
          room_id: string | null;
          first_msgtime: Date;
          last_msgtime: Date;
          message_count: string;
        }[]
      >(
        `SELECT kind, room_id, first_msgtime, last_msgtime, message_count FROM conversation
         WHERE corp_id = ? AND conversation_id = ?`,
        [corpId, conversationId],
      );
      const missing = () => notFound(`no conversation ${conversationId} in ${corpId}`);
      if (!conversation) throw missing();
      // REG-05: outside the user's scope it does not exist for them (404), but the attempt is on record
      if (
        !(await canSeeConversation(app.db, await loadAccess(app.db, request.user!), corpId, conversationId))
      ) {
        await appendAudit(app.db, {
          actor: request.user!.username,
          action: 'conversation.view_denied',
          target: `conversation:${corpId}:${conversationId}`,
          detail: { reason: 'out_of_scope', around: q.around ?? null, at: q.at ?? null },
        });
        throw missing();
      }

      const fingerprint = (direction: 'older' | 'newer') =>
        createHash('sm3')
          .update(JSON.stringify([direction, corpId, conversationId]))
          .digest('hex')
          .slice(0, 24);
      const scope = 'm.corp_id = ? AND m.conversation_id = ?';
      const fetch = async (
        position: KeysetPosition,
        direction: 'older' | 'newer',
        inclusive: boolean,
        limit: number,
      ) => {
        if (limit === 0) return [];
        const [op, tie, dir] =
          direction === 'older' ? ['<', '<', 'DESC'] : ['>', inclusive ? '>=' : '>', 'ASC'];
        return await app.db.query<MessageDbRow[]>(
          `SELECT ${MESSAGE_COLUMNS} FROM message m WHERE ${scope} AND (m.msgtime ${op} ? OR (m.msgtime = ? AND m.id ${tie} ?))
           ORDER BY m.msgtime ${dir}, m.id ${dir} LIMIT ${limit + 1}`,
          [corpId, conversationId, new Date(position.t), new Date(position.t), position.id],
        );
      };

      let older: MessageDbRow[] = [];
      let newer: MessageDbRow[] = [];
      let focusId: string | null = null;
      if (q.cursor) {
        const [direction, codec] = [q.cursor.slice(0, 1), q.cursor.slice(2)];
        if ((direction !== 'o' && direction !== 'n') || q.cursor[1] !== '.')
          throw badRequest('bad_cursor', 'cursor is malformed');
        const which = direction === 'o' ? 'older' : 'newer';
        const position = app.cursors.decode(codec, fingerprint(which));
        if (which === 'older') older = await fetch(position, 'older', false, before);
        else newer = await fetch(position, 'newer', false, after);
      } else {
        let center: KeysetPosition;
        if (q.around) {
          const [key] = await app.db.query<
            {
              msgtime: Date;
            }[]
          >('SELECT msgtime FROM message_key WHERE id = UNHEX(?)', [q.around]);
          const found = key
            ? await app.db.query<{ id: string }[]>(
                `SELECT m.id FROM message m WHERE m.msgtime = ? AND m.id = ? AND ${scope}`,
                [key.msgtime, q.around, corpId, conversationId],
              )
            : [];
          if (!key || found.length === 0) throw notFound(`message ${q.around} is not in this conversation`);
          center = { t: new Date(key.msgtime).getTime(), id: q.around };
          focusId = q.around;
        } else if (q.at) {
          center = { t: new Date(q.at).getTime(), id: '' };
        } else {
          // the end of the conversation: everything is "older" than a point after the last message
          center = { t: new Date(conversation.last_msgtime).getTime() + 1, id: '' };
        }
        older = await fetch(center, 'older', false, before);
        newer = await fetch(center, 'newer', true, after + (focusId ? 1 : 0));
      }

      const olderMore = older.length > before;
      const newerLimit = after + (focusId ? 1 : 0);
      const newerMore = newer.length > (q.cursor ? after : newerLimit);
      const olderPage = older.slice(0, before).reverse();
      const newerPage = newer.slice(0, q.cursor ? after : newerLimit);
      const rows = [...olderPage, ...newerPage];
      const items = [];
      // alerts attached to these messages (kind, severity, rule / category; never content)
      const alerts = await alertTags(
        app.db,
        app.keys,
        rows.map((row) => row.id),
      );
      for (const row of rows) {
        try {
          const record = await openMessageRecord(app.keys, row);
          items.push({ ...messageView(row, record), alerts: alerts.get(row.id) ?? [] });
        } catch (err) {
          if (!isIntegrityError(err)) throw err;
          await reportIntegrityFailure(integrityContext(app.db, request), messageBinding(row), err);
          items.push({ ...unreadableMessageView(row, err), alerts: [] });
        }
      }
      const first = rows[0];
      const last = rows[rows.length - 1];
      const at = (row: MessageDbRow) => ({ t: new Date(row.msgtime).getTime(), id: row.id });
      // older pages exist before the first item unless this request read older and found no more
      const hasOlder = q.cursor && q.cursor.startsWith('n.') ? true : olderMore;
      const hasNewer = q.cursor && q.cursor.startsWith('o.') ? true : newerMore;
      const olderCursor =
        first && hasOlder ? `o.${app.cursors.encode(at(first), fingerprint('older'))}` : null;
      const newerCursor = last && hasNewer ? `n.${app.cursors.encode(at(last), fingerprint('newer'))}` : null;

      const people = await app.db.query<
        { participant: string; party: ConversationParticipant['party']; sent_count: string }[]
      >(
        `SELECT participant, party, sent_count FROM conversation_participant
         WHERE corp_id = ? AND conversation_id = ? ORDER BY sent_count DESC, participant LIMIT ${MAX_PARTICIPANTS}`,
        [corpId, conversationId],
      );
      const refs = await customerRefs(
        app.db,
        app.keys,
        corpId,
        people.filter((p) => p.party === 'customer').map((p) => p.participant),
      );
      const participants: ConversationParticipant[] = people.map((p) =>
        p.party === 'customer'
          ? {
              id: p.participant,
              party: p.party,
              display: maskExternalId(p.participant),
              customerRef: refs.get(p.participant) ?? null,
              sent: Number(p.sent_count),
            }
          : {
              id: p.participant,
              party: p.party,
              display: p.participant,
              customerRef: null,
              sent: Number(p.sent_count),
            },
      );

      await appendAudit(app.db, {
        actor: request.user?.username ?? 'unknown',
        action: 'conversation.view',
        target: `conversation:${corpId}:${conversationId}`,
        detail: {
          around: q.around ?? null,
          at: q.at ?? null,
          count: items.length,
          ids: items.map((i) => i.id),
        },
      });
      return {
        corpId,
        conversationId,
        kind: conversation.kind,
        roomId: conversation.room_id,
        messageCount: Number(conversation.message_count),
        firstTime: new Date(conversation.first_msgtime).toISOString(),
        lastTime: new Date(conversation.last_msgtime).toISOString(),
        participants,
        items,
        focusId,
        olderCursor,
        newerCursor,
      };
    },
  );
};

export default routes;
