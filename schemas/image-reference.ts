import * as z from 'zod';

// The OCI distribution reference grammar (distribution/reference/regexp.go), anchored.
const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`;
const domain = `${host}(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const PATH_COMPONENT = new RegExp(`^${pathComponent}$`);
const REFERENCE = new RegExp(
  `^(?<name>(?:(?<domain>${domain})/)?${pathComponent}(?:/${pathComponent})*)(?::(?<tag>${tag}))?(?:@(?<digest>${digest}))?$`,
);

/** The parts of an image reference. */
export interface ParsedImageReference {
  /** Registry host[:port], when the reference names one (a first component with '.', ':' or 'localhost'). */
  registry: string | undefined;
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * Parses an OCI image reference, or returns undefined when it is not one.
 *
 * @example
 * parseImageReference('127.0.0.1:5000/acme/web:1.2') // { registry: '127.0.0.1:5000', repository: 'acme/web', tag: '1.2', … }
 */
export function parseImageReference(ref: string): ParsedImageReference | undefined {
  if (ref.length > 512) return undefined;
  const m = REFERENCE.exec(ref);
  if (!m?.groups?.name || m.groups.name.length > 255) return undefined;
  const [first = '', ...rest] = m.groups.name.split('/');
  const isRegistry = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  // A first component that is no registry is a path component, which must be lowercase (Docker's rule).
  if (!isRegistry && !PATH_COMPONENT.test(first)) return undefined;
  return {
    registry: isRegistry ? first : undefined,
    repository: isRegistry ? rest.join('/') : m.groups.name,
    tag: m.groups.tag,
    digest: m.groups.digest,
  };
}

export const ImageReference = z
  .string()
  .refine((ref) => parseImageReference(ref) !== undefined, {
    message:
      'must be an OCI image reference such as "registry.example.com/team/web:1.2" (lowercase repository)',
  })
  .meta({ example: '127.0.0.1:5000/acme/web:1.0' });
