import { entriesOf } from './entry';

/** 引导客户离开受监控渠道：私人微信、QQ、私人群与外部 App（REG-13） */
const { term, allow } = entriesOf('outside_platform', ['REG-13']);

export const OUTSIDE_PLATFORM = [
  term('op-001', '加微信', 'warning', '引导客户添加私人微信，脱离受监控渠道'),
  term('op-002', '加我微信', 'warning', '引导客户添加员工微信，脱离受监控渠道'),
  term('op-003', '加个微信', 'warning', '引导客户添加微信，脱离受监控渠道'),
  term('op-004', '加一下微信', 'warning', '引导客户添加微信，脱离受监控渠道'),
  term('op-005', '加私人微信', 'critical', '引导客户添加私人微信，脱离受监控渠道'),
  term('op-006', '私人微信', 'critical', '使用私人微信与客户联系，脱离受监控渠道'),
  term('op-007', '个人微信', 'warning', '使用个人微信与客户联系，脱离受监控渠道'),
  term('op-008', '微信号', 'warning', '交换微信号，可能脱离受监控渠道'),
  term('op-009', '加qq', 'warning', '引导客户添加 QQ，脱离受监控渠道'),
  term('op-010', '加我qq', 'warning', '引导客户添加 QQ，脱离受监控渠道'),
  term('op-011', 'qq号', 'warning', '交换 QQ 号，可能脱离受监控渠道'),
  term('op-012', 'qq群', 'warning', '拉客户进 QQ 群，脱离受监控渠道'),
  term('op-013', '私人群', 'critical', '拉客户进私人群，脱离受监控渠道'),
  term('op-014', '拉你进群', 'warning', '拉客户进外部群，需复核'),
  term('op-015', '下载app', 'warning', '引导客户下载外部 App，可能涉及非法平台'),
  term('op-016', '下载这个app', 'warning', '引导客户下载外部 App，可能涉及非法平台'),
  term('op-017', '下载软件', 'warning', '引导客户下载外部软件，可能涉及非法平台'),
  term('op-018', '扫码下载', 'warning', '引导客户扫码下载外部应用'),
  term('op-019', '私聊', 'info', '提议私聊，可能脱离受监控渠道'),
  term('op-020', '私下联系', 'warning', '提议私下联系，脱离受监控渠道'),
  term('op-021', '换个地方聊', 'warning', '提议换渠道沟通，脱离受监控渠道'),
  term('op-022', '打我私人电话', 'critical', '引导客户联系员工私人电话'),
  term('op-023', '私人手机', 'warning', '使用私人手机与客户联系'),
  term('op-024', '私人号码', 'warning', '使用私人号码与客户联系'),
  term('op-025', 'telegram', 'warning', '引导客户使用境外通讯软件'),
  term('op-026', '电报群', 'warning', '引导客户使用境外通讯软件群'),
  allow('op-a01', '企业微信', '本机构受监控的沟通渠道'),
  allow('op-a02', '企业微信号', '本机构受监控的沟通渠道'),
  allow('op-a03', '官方app', '本机构官方应用'),
  allow('op-a04', '手机银行app', '本机构官方应用'),
];
