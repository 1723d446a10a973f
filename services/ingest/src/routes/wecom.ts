import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorReply,
  IngestBatchReply,
  Topics,
  WeComBatch,
  type AcceptedRecord,
  type RejectedRecord,
} from '@cz/contracts';
import { IndexPurposes, indexKeyFor, type OutgoingRecord } from '@cz/common';
import { archivedContractProblems, toArchivedMessage, validateRecord } from '../normalise';
import { assertCallerCorp } from '../corp-binding';
import { produceDurably, sealedRecord } from '../produce';
import { contentMacOf } from '../wecom/canonical';

// 400 is either the per-record reply (some records rejected) or a whole-request error (bad JSON, schema).
const Type400 = Type.Union([IngestBatchReply, ErrorReply]);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/wecom/messages',
    {
      onRequest: app.requireCaller('ingest.write'),
      schema: {
        body: WeComBatch,
        response: {
          202: IngestBatchReply,
          400: Type400,
          401: ErrorReply,
          403: ErrorReply,
          413: ErrorReply,
          503: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const { corpId, messages } = request.body;
      await assertCallerCorp(app, request, corpId, messages.length);
      const receivedAt = Date.now();
      const accepted: AcceptedRecord[] = [];
      const rejected: RejectedRecord[] = [];
      const outgoing: OutgoingRecord[] = [];
      const seenInBatch = new Set<string>();
      const macKey = await indexKeyFor(app.keys, IndexPurposes.messageContent);

      for (const [index, candidate] of messages.entries()) {
        const result = validateRecord(candidate);
        if (!result.ok) {
          rejected.push(
            result.msgid === undefined
              ? { index, errors: result.errors }
              : { index, msgid: result.msgid, errors: result.errors },
          );
          continue;
        }
        const mac = contentMacOf(macKey, result.record.raw);
        const archived = toArchivedMessage(corpId, result.record, receivedAt, mac);
        const problems = archivedContractProblems(archived);
        if (problems.length > 0) {
          rejected.push({ index, msgid: archived.msgid, errors: problems });
          continue;
        }
        accepted.push({ index, msgid: archived.msgid, id: archived.id });
        // A record repeated inside one batch is the same record: acknowledge both, write once. A
        // different record under a msgid already seen is written too: the archiver keeps the first
        // and stores this one as a conflicting variant, so nothing acknowledged is dropped here.
        if (seenInBatch.has(`${archived.id}:${mac}`)) continue;
        seenInBatch.add(`${archived.id}:${mac}`);
        outgoing.push(await sealedRecord(app.keys, archived.conversationId, archived, 'cz.msg.v1', corpId));
      }

      const refusal = await produceDurably(
        app,
        request,
        Topics.messages,
        outgoing,
        'the message bus did not acknowledge the batch; nothing from this request was accepted, retry later',
      );
      if (refusal) return reply.code(503).send(refusal);
      request.log.info(
        { corpId, accepted: accepted.length, rejected: rejected.length },
        'wecom batch ingested',
      );
      return reply.code(rejected.length > 0 ? 400 : 202).send({ accepted, rejected });
    },
  );
};

export default routes;
