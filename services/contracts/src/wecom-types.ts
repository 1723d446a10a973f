import { Type, type Static, type TSchema } from '@sinclair/typebox';

/*
 * The type-specific payloads of WeCom chat-archive records (会话内容存档, "消息格式" of the Finance
 * SDK's DecryptData output). Field names are WeCom's own. Every payload schema allows additional
 * properties — WeCom adds fields without notice and an archive keeps what it is given — and is
 * strict only about what Cunzheng relies on: the media reference (`sdkfileid`) of a media message,
 * the `pre_msgid` of a recall, the `userid` of a consent decision, and the types of the text fields
 * that become searchable.
 */

const loose = { additionalProperties: true } as const;

/** a free-text field that becomes searchable */
const Text = (maxLength = 20000) => Type.Optional(Type.String({ maxLength }));
/**
 * Sizes, durations, counts and ids that WeCom documents as integers. Relays in front of the SDK
 * have been seen to stringify them, so a decimal string is accepted too (normalised on the way in).
 */
export const WeComCount = Type.Union([
  Type.Integer({ minimum: 0 }),
  Type.String({ pattern: '^[0-9]{1,20}$' }),
]);
const Count = Type.Optional(WeComCount);
/** the opaque media id handed to the SDK's GetMediaData; a base64 blob of ~1–2 KB in practice */
export const SdkFileId = Type.String({ minLength: 1, maxLength: 16384 });
const Md5 = Type.Optional(Type.String({ maxLength: 128 }));
/** content of a chatrecord / mixed item: a JSON string of the item type's payload (some relays send the object) */
const ItemContent = Type.Union([Type.String({ maxLength: 1_000_000 }), Type.Object({}, loose)]);

export const TextPayload = Type.Object({ content: Type.String({ maxLength: 200000 }) }, loose);
export const ImagePayload = Type.Object({ sdkfileid: SdkFileId, md5sum: Md5, filesize: Count }, loose);
export const RevokePayload = Type.Object(
  { pre_msgid: Type.String({ minLength: 1, maxLength: 128, description: 'msgid of the recalled message' }) },
  loose,
);
export const AgreePayload = Type.Object(
  {
    userid: Type.String({ minLength: 1, maxLength: 128, description: 'external_userid of the customer' }),
    agree_time: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch' })),
  },
  loose,
);
export const DisagreePayload = Type.Object(
  {
    userid: Type.String({ minLength: 1, maxLength: 128 }),
    disagree_time: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  loose,
);
export const VoicePayload = Type.Object(
  { sdkfileid: SdkFileId, md5sum: Md5, voice_size: Count, play_length: Count },
  loose,
);
export const VideoPayload = Type.Object(
  { sdkfileid: SdkFileId, md5sum: Md5, filesize: Count, play_length: Count },
  loose,
);
export const CardPayload = Type.Object({ corpname: Text(), userid: Text(128) }, loose);
export const LocationPayload = Type.Object(
  {
    longitude: Type.Optional(Type.Number()),
    latitude: Type.Optional(Type.Number()),
    address: Text(),
    title: Text(),
    zoom: Count,
  },
  loose,
);
export const EmotionPayload = Type.Object(
  {
    sdkfileid: SdkFileId,
    md5sum: Md5,
    /** 1 gif, 2 png */
    type: Count,
    width: Count,
    height: Count,
    imagesize: Count,
    title: Text(),
  },
  loose,
);
export const FilePayload = Type.Object(
  { sdkfileid: SdkFileId, md5sum: Md5, filename: Text(1024), fileext: Text(64), filesize: Count },
  loose,
);
export const LinkPayload = Type.Object(
  { title: Text(), description: Text(), link_url: Text(8192), image_url: Text(8192) },
  loose,
);
export const WeappPayload = Type.Object(
  { title: Text(), description: Text(), username: Text(256), displayname: Text() },
  loose,
);
export const ChatRecordItem = Type.Object(
  {
    /** ChatRecordText, ChatRecordFile, ChatRecordImage, ChatRecordVideo, ChatRecordLink, ChatRecordLocation, ChatRecordMixed, ... */
    type: Type.String({ minLength: 1, maxLength: 64 }),
    msgtime: Count,
    content: ItemContent,
    from_chatroom: Type.Optional(Type.Boolean()),
  },
  loose,
);
export const ChatRecordPayload = Type.Object(
  { title: Text(), item: Type.Optional(Type.Array(ChatRecordItem, { maxItems: 10000 })) },
  loose,
);
export const TodoPayload = Type.Object({ title: Text(), content: Text(200000) }, loose);
/** vote: WeCom's sample puts these at the top level of the record; a `vote` object is read the same way */
export const VotePayload = Type.Object(
  {
    votetitle: Text(),
    voteitem: Type.Optional(Type.Array(Type.String({ maxLength: 20000 }), { maxItems: 1000 })),
    /** 101 started a vote, 102 took part */
    votetype: Count,
    voteid: Text(256),
  },
  loose,
);
export const CollectPayload = Type.Object(
  {
    room_name: Text(),
    creator: Text(),
    create_time: Text(64),
    title: Text(),
    details: Type.Optional(
      Type.Array(Type.Object({ id: Count, ques: Text(), type: Text(64) }, loose), { maxItems: 1000 }),
    ),
  },
  loose,
);
/** redpacket and external_redpacket (互通红包); totalamount in fen */
export const RedPacketPayload = Type.Object(
  { type: Count, wish: Text(), totalcnt: Count, totalamount: Count },
  loose,
);
export const MeetingPayload = Type.Object(
  {
    topic: Text(),
    starttime: Count,
    endtime: Count,
    address: Text(),
    remarks: Text(),
    meetingtype: Count,
    meetingid: Count,
    status: Count,
  },
  loose,
);
export const DocPayload = Type.Object({ title: Text(), link_url: Text(8192), doc_creator: Text(128) }, loose);
export const MarkdownInfo = Type.Object({ content: Text(200000) }, loose);
export const NewsInfo = Type.Object(
  {
    item: Type.Optional(
      Type.Array(
        Type.Object({ title: Text(), description: Text(), url: Text(8192), picurl: Text(8192) }, loose),
        { maxItems: 100 },
      ),
    ),
  },
  loose,
);
export const CalendarPayload = Type.Object(
  {
    title: Text(),
    creatorname: Text(),
    attendeename: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 10000 })),
    starttime: Count,
    endtime: Count,
    place: Text(),
    remarks: Text(),
  },
  loose,
);
export const MixedPayload = Type.Object(
  {
    item: Type.Optional(
      Type.Array(
        Type.Object({ type: Type.String({ minLength: 1, maxLength: 64 }), content: ItemContent }, loose),
        {
          maxItems: 10000,
        },
      ),
    ),
  },
  loose,
);
export const MeetingVoiceCallPayload = Type.Object(
  {
    endtime: Count,
    sdkfileid: SdkFileId,
    demofiledata: Type.Optional(
      Type.Array(
        Type.Object(
          { filename: Text(1024), demooperator: Text(128), starttime: Count, endtime: Count },
          loose,
        ),
        { maxItems: 1000 },
      ),
    ),
    sharescreendata: Type.Optional(
      Type.Array(Type.Object({ share: Text(128), starttime: Count, endtime: Count }, loose), {
        maxItems: 1000,
      }),
    ),
  },
  loose,
);
export const VoipDocSharePayload = Type.Object(
  { filename: Text(1024), md5sum: Md5, filesize: Count, sdkfileid: SdkFileId },
  loose,
);
export const SphFeedPayload = Type.Object({ feed_type: Count, sph_name: Text(), feed_desc: Text() }, loose);
export const VoipTextInfo = Type.Object({ callduration: Count, invitetype: Count }, loose);
export const QyDiskFileInfo = Type.Object({ filename: Text(1024) }, loose);
export const MeetingNotificationInfo = Type.Object(
  { content: Text(), meeting_id: Count, notification_type: Count },
  loose,
);

export interface WeComTypeSpec {
  /** the record key that holds the payload (usually the msgtype itself) */
  payloadKey: string;
  payload: TSchema;
  /** the payload may be absent (then its fields are read from the top level of the record) */
  payloadOptional?: true;
  /** the payload carries a media reference that must be present (`sdkfileid`) */
  media?: true;
  /** a top-level id the type carries beside its payload */
  topLevelId?: 'voiceid' | 'voipid';
  /** Chinese name as in the WeCom documentation */
  title: string;
}

/**
 * Every documented msgtype. A msgtype not listed here is archived whole and flagged
 * (`unknownType`), never rejected. `switch` records carry no msgtype at all.
 */
export const WeComMsgTypes = {
  text: { payloadKey: 'text', payload: TextPayload, title: '文本' },
  image: { payloadKey: 'image', payload: ImagePayload, media: true, title: '图片' },
  revoke: { payloadKey: 'revoke', payload: RevokePayload, title: '撤回消息' },
  agree: { payloadKey: 'agree', payload: AgreePayload, title: '同意会话聊天内容' },
  disagree: { payloadKey: 'disagree', payload: DisagreePayload, title: '不同意会话聊天内容' },
  voice: { payloadKey: 'voice', payload: VoicePayload, media: true, title: '语音' },
  video: { payloadKey: 'video', payload: VideoPayload, media: true, title: '视频' },
  card: { payloadKey: 'card', payload: CardPayload, title: '名片' },
  location: { payloadKey: 'location', payload: LocationPayload, title: '位置' },
  emotion: { payloadKey: 'emotion', payload: EmotionPayload, media: true, title: '表情' },
  file: { payloadKey: 'file', payload: FilePayload, media: true, title: '文件' },
  link: { payloadKey: 'link', payload: LinkPayload, title: '链接' },
  weapp: { payloadKey: 'weapp', payload: WeappPayload, title: '小程序消息' },
  chatrecord: { payloadKey: 'chatrecord', payload: ChatRecordPayload, title: '会话记录消息' },
  todo: { payloadKey: 'todo', payload: TodoPayload, title: '待办消息' },
  vote: { payloadKey: 'vote', payload: VotePayload, payloadOptional: true, title: '投票消息' },
  collect: { payloadKey: 'collect', payload: CollectPayload, title: '填表消息' },
  redpacket: { payloadKey: 'redpacket', payload: RedPacketPayload, title: '红包消息' },
  meeting: { payloadKey: 'meeting', payload: MeetingPayload, title: '会议邀请消息' },
  meeting_notification: { payloadKey: 'info', payload: MeetingNotificationInfo, title: '会议控制消息' },
  docmsg: { payloadKey: 'doc', payload: DocPayload, title: '在线文档消息' },
  markdown: { payloadKey: 'info', payload: MarkdownInfo, title: 'MarkDown格式消息' },
  news: { payloadKey: 'info', payload: NewsInfo, title: '图文消息' },
  calendar: { payloadKey: 'calendar', payload: CalendarPayload, title: '日程消息' },
  mixed: { payloadKey: 'mixed', payload: MixedPayload, title: '混合消息' },
  meeting_voice_call: {
    payloadKey: 'meeting_voice_call',
    payload: MeetingVoiceCallPayload,
    media: true,
    topLevelId: 'voiceid',
    title: '音频存档消息',
  },
  voip_doc_share: {
    payloadKey: 'voip_doc_share',
    payload: VoipDocSharePayload,
    media: true,
    topLevelId: 'voipid',
    title: '音频共享文档消息',
  },
  external_redpacket: { payloadKey: 'redpacket', payload: RedPacketPayload, title: '互通红包消息' },
  sphfeed: { payloadKey: 'sphfeed', payload: SphFeedPayload, title: '视频号消息' },
  voiptext: { payloadKey: 'info', payload: VoipTextInfo, title: '音视频通话' },
  qydiskfile: { payloadKey: 'info', payload: QyDiskFileInfo, title: '微盘文件' },
} as const satisfies Record<string, WeComTypeSpec>;

export type KnownMsgtype = keyof typeof WeComMsgTypes;

export const isKnownMsgtype = (msgtype: string): msgtype is KnownMsgtype =>
  Object.hasOwn(WeComMsgTypes, msgtype);

/**
 * One media object a record refers to, normalised across types so the media fetcher (Finance SDK
 * GetMediaData → recordings) can work from this list alone. Field names are WeCom's.
 */
export const MediaRef = Type.Object({
  /** image, voice, video, emotion, file, meeting_voice_call, voip_doc_share, or the item type inside a chatrecord / mixed message */
  kind: Type.String({ minLength: 1, maxLength: 64 }),
  /** JSON pointer of the object in the original record, e.g. `/image` or `/chatrecord/item/2` */
  path: Type.String({ maxLength: 512 }),
  sdkfileid: SdkFileId,
  md5sum: Type.Optional(Type.String({ maxLength: 128 })),
  /** bytes (WeCom's filesize, voice_size or imagesize) */
  filesize: Type.Optional(Type.Integer({ minimum: 0 })),
  /** seconds */
  play_length: Type.Optional(Type.Integer({ minimum: 0 })),
  filename: Type.Optional(Type.String({ maxLength: 1024 })),
  fileext: Type.Optional(Type.String({ maxLength: 64 })),
});
export type MediaRef = Static<typeof MediaRef>;

/** A consent decision carried by an agree / disagree record (REG-08). */
export const ConsentDecision = Type.Object({
  decision: Type.Union([Type.Literal('agree'), Type.Literal('disagree')]),
  /** external_userid of the person who decided */
  userid: Type.String({ minLength: 1, maxLength: 128 }),
  /** when they decided, ms since the epoch (agree_time / disagree_time, else the record's msgtime) */
  at: Type.Integer({ minimum: 0 }),
});
export type ConsentDecision = Static<typeof ConsentDecision>;
