import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { WeComMsgTypes } from '@cz/contracts';
import {
  archivedContractProblems,
  toArchivedMessage,
  validateRecord,
  type ValidRecord,
} from '../src/normalise';
import { MAX_NESTING } from '../src/wecom/extract';
import { canonicalJson, contentMacOf } from '../src/wecom/canonical';
import { expectations, loadCorpus, type WeComRecord } from './fixtures/wecom/index';

const corpus = loadCorpus();
const expected = expectations(corpus);
const CORP = 'ww_unit_corp';

function valid(record: unknown): ValidRecord {
  const result = validateRecord(record);
  assert.ok(result.ok, `expected a valid record: ${JSON.stringify(result.ok ? null : result.errors)}`);
  return result.record;
}

function errorsOf(record: unknown) {
  const result = validateRecord(record);
  assert.ok(!result.ok, 'expected the record to be rejected');
  return result.errors;
}

const clone = (record: WeComRecord): WeComRecord => structuredClone(record);

describe('WeCom message model: corpus', () => {
  test('[REG-01] the corpus has a sample of every documented msgtype, a switch record and an unknown type', () => {
    const msgtypes = new Set([...corpus.values()].map((r) => r.msgtype));
    for (const msgtype of Object.keys(WeComMsgTypes))
      assert.ok(msgtypes.has(msgtype), `no sample of ${msgtype}`);
    assert.ok([...corpus.values()].some((r) => r.action === 'switch' && r.msgtype === undefined));
    assert.ok(
      [...corpus.values()].some((r) => typeof r.msgtype === 'string' && !(r.msgtype in WeComMsgTypes)),
    );
    assert.deepEqual([...expected.keys()].sort(), [...corpus.keys()].sort(), 'one expectation per sample');
  });

  for (const [name, record] of corpus) {
    test(`[REG-01] ${name}: searchable text, media references and flags`, () => {
      const want = expected.get(name)!;
      const archived = toArchivedMessage(CORP, valid(record), 1);
      assert.equal(archived.msgtype ?? null, want.msgtype);
      assert.equal(archived.text, want.text);
      assert.deepEqual(archived.media, want.media);
      assert.equal(archived.unknownType, want.unknownType);
      assert.equal(archived.recallOf, want.recalls ? corpus.get(want.recalls)!.msgid : undefined);
      assert.deepEqual(archived.consent, want.consent);
      assert.deepEqual(archived.raw, record, 'the record is archived whole');
      assert.deepEqual(archivedContractProblems(archived), [], 'the archiver will accept it');
    });
  }

  test('a switch record (no msgtype, user + time) becomes a log line of that member', () => {
    const record = corpus.get('switch')!;
    const archived = toArchivedMessage(CORP, valid(record), 1);
    assert.equal(archived.action, 'switch');
    assert.equal(archived.from, record.user);
    assert.deepEqual(archived.tolist, []);
    assert.equal(archived.msgtime, record.time);
    assert.equal(archived.conversationId, `switch:${String(record.user)}`);
    assert.equal(archived.roomid, undefined);
  });
});

describe('WeCom message model: bad input', () => {
  const mediaTypes = Object.entries(WeComMsgTypes).filter(([, spec]) => 'media' in spec && spec.media);

  test('every media type without its sdkfileid is rejected with the exact path and a reason', () => {
    assert.deepEqual(mediaTypes.map(([t]) => t).sort(), [
      'emotion',
      'file',
      'image',
      'meeting_voice_call',
      'video',
      'voice',
      'voip_doc_share',
    ]);
    for (const [msgtype, spec] of mediaTypes) {
      const record = clone(corpus.get(msgtype)!);
      const payload = record[spec.payloadKey] as Record<string, unknown>;
      for (const missing of [undefined, '']) {
        if (missing === undefined) delete payload.sdkfileid;
        else payload.sdkfileid = missing;
        const errors = errorsOf(record);
        const problem = errors.find((e) => e.path === `/${spec.payloadKey}/sdkfileid`);
        assert.ok(problem, `${msgtype}: ${JSON.stringify(errors)}`);
        assert.match(problem.message, /media reference/);
        assert.equal(errors.filter((e) => e.path === problem.path).length, 1, 'one problem per path');
      }
    }
  });

  test('a known msgtype without its payload, or with a payload of the wrong shape, is rejected', () => {
    const noPayload = clone(corpus.get('link')!);
    delete noPayload.link;
    assert.deepEqual(errorsOf(noPayload), [
      { path: '/link', message: 'a link message needs its "link" object' },
    ]);

    const stringPayload = { ...clone(corpus.get('link')!), link: 'https://example.cn' };
    assert.equal(errorsOf(stringPayload)[0]!.path, '/link');

    const revoke = clone(corpus.get('revoke')!);
    revoke.revoke = {};
    assert.ok(errorsOf(revoke).some((e) => e.path === '/revoke/pre_msgid'));

    const agree = clone(corpus.get('agree')!);
    delete (agree.agree as Record<string, unknown>).userid;
    assert.ok(errorsOf(agree).some((e) => e.path === '/agree/userid'));

    const chatrecord = clone(corpus.get('chatrecord')!);
    (chatrecord.chatrecord as Record<string, unknown>).item = 'not a list';
    assert.ok(errorsOf(chatrecord).some((e) => e.path === '/chatrecord/item'));

    const file = clone(corpus.get('file')!);
    (file.file as Record<string, unknown>).filename = 42;
    assert.ok(errorsOf(file).some((e) => e.path === '/file/filename'));

    const news = clone(corpus.get('news')!);
    news.info = { item: [{ title: ['not', 'text'] }] };
    assert.ok(errorsOf(news).some((e) => e.path === '/info/item/0/title'));
  });

  test('malformed envelopes and switch records are rejected with the field at fault', () => {
    assert.deepEqual(errorsOf([1, 2]), [{ path: '', message: 'record must be a JSON object' }]);
    assert.ok(
      errorsOf({ ...clone(corpus.get('text')!), tolist: 'zhangwei' }).some((e) => e.path === '/tolist'),
    );
    assert.ok(
      errorsOf({ ...clone(corpus.get('text')!), action: 'delete' }).some((e) => e.path === '/action'),
    );
    const noType = clone(corpus.get('text')!);
    delete noType.msgtype;
    assert.deepEqual(errorsOf(noType), [
      { path: '/msgtype', message: 'msgtype is required when action is send' },
    ]);

    const switchRecord = clone(corpus.get('switch')!);
    delete switchRecord.user;
    assert.deepEqual(errorsOf(switchRecord), [
      { path: '/user', message: 'a switch record needs user (who switched corp)' },
    ]);
    assert.ok(errorsOf({ ...clone(corpus.get('switch')!), time: 'now' }).some((e) => e.path === '/time'));
  });

  test('an unknown msgtype is accepted, flagged and kept whole, its payload searched best effort', () => {
    const record = {
      msgid: 'future-1',
      action: 'send',
      from: 'zhangwei',
      tolist: ['wmX'],
      roomid: '',
      msgtime: 1793671200000,
      msgtype: 'hologram',
      hologram: { title: '三维产品演示', sdkfileid: 'SDKFUTURE', md5sum: 'abc', filesize: '77' },
    };
    const archived = toArchivedMessage(CORP, valid(record), 1);
    assert.equal(archived.unknownType, true);
    assert.equal(archived.text, '三维产品演示');
    assert.deepEqual(archived.media, [
      { kind: 'hologram', path: '/hologram', sdkfileid: 'SDKFUTURE', md5sum: 'abc', filesize: 77 },
    ]);
    assert.deepEqual(archived.raw, record);
    // an unknown type with a scalar or no payload is kept as well
    assert.equal(toArchivedMessage(CORP, valid({ ...record, hologram: undefined }), 1).text, '');
  });
});

describe('WeCom message model: what relays and nesting do', () => {
  test('sizes stringified by a relay are accepted and normalised to numbers', () => {
    const record = clone(corpus.get('file')!);
    (record.file as Record<string, unknown>).filesize = '32768';
    assert.equal(toArchivedMessage(CORP, valid(record), 1).media?.[0]?.filesize, 32768);
    (record.file as Record<string, unknown>).filesize = '32KB';
    assert.ok(errorsOf(record).some((e) => e.path === '/file/filesize'));
  });

  test('chatrecord items given as objects (not JSON strings) and vote fields in a vote object are read too', () => {
    const chatrecord = clone(corpus.get('chatrecord')!);
    const items = (chatrecord.chatrecord as { item: { content: unknown }[] }).item;
    for (const item of items) item.content = JSON.parse(item.content as string) as unknown;
    assert.equal(toArchivedMessage(CORP, valid(chatrecord), 1).text, expected.get('chatrecord')!.text);

    const vote = clone(corpus.get('vote')!);
    const { votetitle, voteitem } = vote;
    delete vote.votetitle;
    delete vote.voteitem;
    vote.vote = { votetitle, voteitem };
    assert.equal(toArchivedMessage(CORP, valid(vote), 1).text, expected.get('vote')!.text);
  });

  test(`chatrecords nested deeper than ${MAX_NESTING} levels are archived whole, searched to that depth`, () => {
    let payload: Record<string, unknown> = { content: 'level-0' };
    let type = 'ChatRecordText';
    for (let level = 1; level <= MAX_NESTING + 4; level++) {
      payload = {
        title: `level-${level}`,
        item: [{ type, msgtime: 1, content: JSON.stringify(payload), from_chatroom: false }],
      };
      type = 'ChatRecordChatRecord';
    }
    const record = { ...clone(corpus.get('chatrecord')!), chatrecord: payload };
    const text = toArchivedMessage(CORP, valid(record), 1).text.split('\n');
    assert.equal(text[0], `level-${MAX_NESTING + 4}`);
    assert.equal(text.length, MAX_NESTING + 1);
  });

  test('media of nested items is bounded to the contract, so the archiver never dead-letters the record', () => {
    const record = clone(corpus.get('chatrecord')!);
    const items = (record.chatrecord as { item: Record<string, unknown>[] }).item;
    items[2]!.content = JSON.stringify({
      filename: `${'长'.repeat(3000)}.pdf`,
      fileext: 'x'.repeat(300),
      sdkfileid: 'S1',
    });
    items[1]!.content = JSON.stringify({ sdkfileid: 'S'.repeat(20000), md5sum: 'm'.repeat(500) });
    items[0]!.type = 'ChatRecordMixed';
    items[0]!.content = JSON.stringify({ item: [{ type: 'Q'.repeat(100), content: { sdkfileid: 'S3' } }] });
    const archived = toArchivedMessage(CORP, valid(record), 1);
    assert.deepEqual(archivedContractProblems(archived), []);
    assert.deepEqual(
      archived.media?.map((m) => [m.path, m.kind.length, m.sdkfileid, m.filename?.length, m.fileext?.length]),
      [
        ['/chatrecord/item/0/item/0', 64, 'S3', undefined, undefined],
        ['/chatrecord/item/2', 4, 'S1', 1024, 64],
      ],
    );
  });

  test('a payload key that is not a plain JSON-pointer token is escaped in paths', () => {
    const record = {
      ...clone(corpus.get('text')!),
      msgtype: 'a/b~c',
      'a/b~c': { title: '转义', sdkfileid: 'S' },
    };
    assert.equal(toArchivedMessage(CORP, valid(record), 1).media?.[0]?.path, '/a~1b~0c');
  });

  test('an item content that is not JSON is searched as plain text', () => {
    const record = clone(corpus.get('mixed')!);
    (record.mixed as { item: { content: unknown }[] }).item[0]!.content = '{不是 JSON';
    assert.equal(toArchivedMessage(CORP, valid(record), 1).text, '{不是 JSON');
  });
});

describe('content MAC', () => {
  const key = randomBytes(32);
  const text = corpus.get('text')!;

  test('canonical JSON sorts keys at every level and keeps array order', () => {
    assert.equal(canonicalJson({ b: [2, { d: 1, c: 2 }], a: null }), '{"a":null,"b":[2,{"c":2,"d":1}]}');
  });

  test('a redelivery has the same MAC whatever its key order or seq; other content another one', () => {
    const reordered = Object.fromEntries(Object.entries(text).reverse());
    assert.equal(contentMacOf(key, reordered), contentMacOf(key, text));
    assert.equal(contentMacOf(key, { ...text, seq: 991 }), contentMacOf(key, text));
    assert.notEqual(contentMacOf(key, { ...text, text: { content: '另一句话' } }), contentMacOf(key, text));
    assert.notEqual(contentMacOf(randomBytes(32), text), contentMacOf(key, text), 'keyed');
    assert.match(contentMacOf(key, text), /^[0-9a-f]{64}$/);
  });
});
