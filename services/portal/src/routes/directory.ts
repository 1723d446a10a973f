import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CorpId, DirectoryLoad, DirectoryLoadReply, ErrorReply, OrgTreeReply } from '@cz/contracts';
import { appendAudit } from '../audit';
import { loadDirectory, orgTree } from '../directory';
import { loadAccess, visibleUnitPaths } from '../scope';

const CorpParams = Type.Object({ corpId: CorpId });

/**
 * The directory behind the search filters: `PUT /v1/admin/directory/:corpId` (admin) upserts org
 * units, employees and customers (names, phones and external userids sealed at once);
 * `GET /v1/org/:corpId` lists the org tree for the console's filter.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.put(
    '/v1/admin/directory/:corpId',
    {
      preHandler: app.requireUser('admin'),
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        params: CorpParams,
        body: DirectoryLoad,
        response: { 200: DirectoryLoadReply, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply },
      },
    },
    async (request) => {
      const result = await loadDirectory(app.db, app.keys, request.params.corpId, request.body);
      await appendAudit(app.db, {
        actor: request.user?.username ?? 'unknown',
        action: 'directory.load',
        target: `corp:${request.params.corpId}`,
        detail: { ...result },
      });
      return result;
    },
  );

  app.get(
    '/v1/org/:corpId',
    {
      preHandler: app.requireUser('auditor', 'risk_officer', 'admin'),
      schema: { params: CorpParams, response: { 200: OrgTreeReply, 401: ErrorReply, 403: ErrorReply } },
    },
    async (request) => {
      // REG-05: a branch sees its own part of the tree only
      const access = await loadAccess(app.db, request.user!);
      const within = visibleUnitPaths(access, request.params.corpId);
      return { items: await orgTree(app.db, request.params.corpId, within) };
    },
  );
};

export default routes;
