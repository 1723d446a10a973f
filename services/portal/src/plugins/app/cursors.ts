import fp from 'fastify-plugin';
import { CursorCodec } from '../../cursor';

declare module 'fastify' {
  interface FastifyInstance {
    cursors: CursorCodec;
  }
}

export default fp<{ cursorKey: Buffer }>(
  async (app, { cursorKey }) => {
    app.decorate('cursors', new CursorCodec(cursorKey));
  },
  { name: 'cz-cursors' },
);
