import type { OrgTreeReply } from '@cz/contracts';
import { onBeforeUnmount, ref, watch } from 'vue';
import { isAbortError } from '@/api/client';
import { getOrgTree } from '@/api/directory';

export type OrgUnit = OrgTreeReply['items'][number];

export interface OrgTreeNode {
  value: string;
  label: string;
  disabled?: boolean;
  children?: OrgTreeNode[];
}

/**
 * The org trees of `corps` (reloaded when the list changes; a superseded load is aborted). A corp
 * whose tree cannot be read is left out and `failed` says so; the others still show.
 */
export function useOrgTrees(corps: () => string[]) {
  const trees = ref<Map<string, OrgUnit[]>>(new Map());
  const loading = ref(false);
  const failed = ref(false);
  let controller: AbortController | null = null;

  async function load(list: string[]): Promise<void> {
    controller?.abort();
    const current = new AbortController();
    controller = current;
    loading.value = true;
    failed.value = false;
    const results = await Promise.allSettled(list.map((corp) => getOrgTree(corp, current.signal)));
    if (controller !== current) return;
    const next = new Map<string, OrgUnit[]>();
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') next.set(list[i]!, result.value.items);
      else if (!isAbortError(result.reason)) failed.value = true;
    });
    trees.value = next;
    loading.value = false;
  }

  watch(
    () => [...corps()],
    (list) => void load(list),
    { immediate: true },
  );
  onBeforeUnmount(() => controller?.abort());
  return { trees, loading, failed };
}

/** A corp's flat unit list as a tree for el-tree-select. */
export function nestOrgUnits(
  units: OrgUnit[],
  node: (unit: OrgUnit) => Pick<OrgTreeNode, 'value' | 'label'>,
): OrgTreeNode[] {
  const nodes = new Map<string, OrgTreeNode>(units.map((u) => [u.id, { ...node(u) }]));
  const roots: OrgTreeNode[] = [];
  for (const unit of units) {
    const current = nodes.get(unit.id)!;
    const parent = unit.parentId ? nodes.get(unit.parentId) : undefined;
    if (parent) (parent.children ??= []).push(current);
    else roots.push(current);
  }
  return roots;
}
