import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CallAccepted, CallDetailRecord, ErrorReply, Topics, type ArchivedCallV1 } from '@cz/contracts';
import {
  IndexPurposes,
  badRequest,
  callArchiveId,
  contentMacOf,
  phoneIndex,
  phoneIndexToken,
} from '@cz/common';
import { assertCallerCorp } from '../corp-binding';
import { produceDurably, sealedRecord } from '../produce';

/** A CDR longer than this is a clock or data error at the call centre, not a call. */
const MAX_CALL_MS = 24 * 3600 * 1000;

/**
 * `POST /v1/calls`: one call detail record. Validated against the contract, sealed (the customer
 * number is personal data: on Kafka and at rest only sealed, plus a blind index), produced to
 * `cz.call.v1` keyed by the customer's blind index; 202 only once Kafka acknowledged. Re-posting
 * the same CDR is harmless: the archiver stores one row per (corp, callId).
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/calls',
    {
      onRequest: app.requireCaller('ingest.write'),
      schema: {
        body: CallDetailRecord,
        response: {
          202: CallAccepted,
          400: ErrorReply,
          401: ErrorReply,
          403: ErrorReply,
          413: ErrorReply,
          503: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const cdr = request.body;
      await assertCallerCorp(app, request, cdr.corpId, 1);
      const startTime = Date.parse(cdr.startTime);
      const endTime = Date.parse(cdr.endTime);
      if (endTime < startTime) throw badRequest('bad_call_times', '/endTime: the call ends before it starts');
      if (endTime - startTime > MAX_CALL_MS) {
        throw badRequest('bad_call_times', '/endTime: a call cannot last more than 24 hours');
      }
      const token = phoneIndexToken(cdr.customerNumber);
      if (token.length < 3) {
        throw badRequest('bad_customer_number', '/customerNumber: fewer than 3 digits');
      }
      const archived: ArchivedCallV1 = {
        schema: 'cz.call.v1',
        kind: 'cdr',
        id: callArchiveId(cdr.corpId, cdr.callId),
        corpId: cdr.corpId,
        callId: cdr.callId,
        agentId: cdr.agentId,
        customerNumber: cdr.customerNumber,
        customerIndex: await phoneIndex(app.keys, cdr.customerNumber),
        direction: cdr.direction,
        startTime,
        endTime,
        businessType: cdr.businessType,
        receivedAt: Date.now(),
        contentMac: await contentMacOf(app.keys, IndexPurposes.callContent, cdr),
      };
      if (cdr.caseId !== undefined) archived.caseId = cdr.caseId;
      if (cdr.campaign !== undefined) archived.campaign = cdr.campaign;
      if (cdr.transcript !== undefined) archived.transcript = cdr.transcript;

      const refusal = await produceDurably(
        app,
        request,
        Topics.calls,
        [await sealedRecord(app.keys, archived.customerIndex, archived, 'cz.call.v1', cdr.corpId)],
        'the message bus did not acknowledge the CDR; it was not accepted, retry later',
      );
      if (refusal) return reply.code(503).send(refusal);
      request.log.info({ corpId: cdr.corpId, callId: cdr.callId }, 'cdr ingested');
      return reply.code(202).send({ id: archived.id, corpId: cdr.corpId, callId: cdr.callId });
    },
  );
};

export default routes;
