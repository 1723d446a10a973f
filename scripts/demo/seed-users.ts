/**
 * Creates (or resets) the demo accounts of the local stack, the demo bank's directory (org tree and
 * employees) and the accounts' data scopes (REG-05): auditor, risk officer and admin see the whole
 * bank (head office), the branch head only 浦东分行. Never run against a production database.
 */
import { createMainDataSource, keyProviderFromEnv } from '@cz/common';
import { loadDirectory, setUserScope, upsertUser } from '@cz/portal';
import { DEMO_CORP, demoDirectory } from './people';

const HEAD_OFFICE = { all: true, units: [] };

export const demoUsers = [
  {
    username: 'auditor',
    displayName: '审计员 张敏',
    roles: ['auditor' as const],
    password: 'Auditor#2026',
    scope: HEAD_OFFICE,
  },
  {
    username: 'risk',
    displayName: '风险官 李娜',
    roles: ['risk_officer' as const],
    password: 'Risk#2026',
    scope: HEAD_OFFICE,
  },
  {
    // the super administrator: also sees chats of protected employees (executives, finance)
    username: 'admin',
    displayName: '系统管理员',
    roles: ['admin' as const, 'super_admin' as const],
    password: 'Admin#2026',
    scope: HEAD_OFFICE,
  },
  {
    username: 'branch',
    displayName: '浦东分行行长 陈静',
    roles: ['auditor' as const],
    password: 'Branch#2026',
    scope: { all: false, units: [{ corpId: DEMO_CORP, orgUnitId: 'pudong' }] },
  },
];

const dataSource = createMainDataSource();
await dataSource.initialize();
try {
  // the branch head's scope names an org unit: the directory comes first
  await loadDirectory(dataSource, keyProviderFromEnv(), DEMO_CORP, demoDirectory());
  for (const { scope, ...user } of demoUsers) {
    await upsertUser(dataSource, user);
    await setUserScope(dataSource, user.username, scope, 'demo-seed');
  }
  console.log(`demo users ready: ${demoUsers.map((u) => u.username).join(', ')}; directory of ${DEMO_CORP}`);
} finally {
  await dataSource.destroy();
}
