import type { Template } from 'aws-cdk-lib/assertions';

type Resources = Record<
  string,
  { Type: string; DependsOn?: string | string[]; DeletionPolicy?: string; Properties?: unknown }
>;

/** The resources a template's resource names: by `DependsOn`, `Ref`, `Fn::GetAtt` or `${…}` in `Fn::Sub`. */
function named(resources: Resources, id: string): Set<string> {
  const found = new Set<string>([resources[id]?.DependsOn ?? []].flat());
  const walk = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return; // an array's items are its entries
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner)) found.add(String(inner[0]));
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? inner[0] : inner;
        for (const [, name] of String(text).matchAll(/\$\{([^.}!]+)/g)) found.add(name as string);
        walk(inner);
      } else walk(inner);
    }
  };
  walk(resources[id]?.Properties);
  return new Set([...found].filter((name) => name in resources));
}

/**
 * The resources of `template` that CloudFormation may delete before (or while) it deletes `logicalId`: those it does
 * not depend on, directly or through others. A stack's deletion takes a resource only once every resource that
 * depends on it is gone.
 */
export function deletedNoLaterThan(template: Template, logicalId: string): string[] {
  const resources = template.toJSON().Resources as Resources;
  const reached = new Set<string>();
  const queue = [logicalId];
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    for (const next of named(resources, id)) {
      if (reached.has(next)) continue;
      reached.add(next);
      queue.push(next);
    }
  }
  return Object.keys(resources).filter((id) => id !== logicalId && !reached.has(id));
}

/**
 * The resources of `template` that its stack's deletion keeps, their types by logical id: the ids are the resources'
 * names to CloudFormation, so one that changed (a construct renamed or moved) would have it make the resource anew
 * and leave the one that holds the data behind, out of the stack.
 */
export function keptOnDeletion(template: Template): Record<string, string> {
  const resources = template.toJSON().Resources as Resources;
  return Object.fromEntries(
    Object.entries(resources)
      .filter(([, resource]) => resource.DeletionPolicy === 'Retain')
      .map(([id, resource]) => [id, resource.Type]),
  );
}
