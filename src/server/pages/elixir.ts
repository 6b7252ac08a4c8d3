// Links into Bootlin's Elixir cross-referencer for frames of upstream kernels. Only releases that
// name an upstream tag exactly get links: a distribution build (`4.18.0-305.el8`, `6.1.0-18-amd64`)
// or a modified tree (`5.10.0-rc6+`, `-next-2024...`) has other line numbers, and a link to the
// wrong line is worse than none.
import { safeUrl } from './html.ts';

/** Elixir tag (`v6.1.102`, `v6.8-rc3`, `v6.1`) for an upstream release, or null. */
export function upstreamTag(release: string | null | undefined): string | null {
  if (!release) return null;
  const m = /^(\d{1,2})\.(\d{1,3})(?:\.(\d{1,4}))?(?:-(rc\d{1,2}))?$/.exec(release.trim());
  if (!m) return null;
  const [, major, minor, patch, rc] = m;
  if (rc && patch && patch !== '0') return null; // stable -rc releases are not tags
  let tag = `v${major}.${minor}`;
  if (patch && patch !== '0') tag += `.${patch}`;
  if (rc) tag += `-${rc}`;
  return tag;
}

/** A kernel source path as printed in reports, made safe for a URL; null if it is not one. */
export function sourcePath(file: string): string | null {
  let p = file.trim();
  while (p.startsWith('./')) p = p.slice(2);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+\-/]*$/.test(p)) return null;
  if (p.split('/').some((seg) => seg === '..' || seg === '')) return null;
  return p;
}

/** https://elixir.bootlin.com/linux/<tag>/source/<file>#L<line>, or null when not upstream. */
export function elixirSourceUrl(
  release: string | null | undefined,
  file: string,
  line: number | null,
): string | null {
  const tag = upstreamTag(release);
  const path = sourcePath(file);
  if (!tag || !path) return null;
  const anchor = line && line > 0 ? `#L${line}` : '';
  return safeUrl(`https://elixir.bootlin.com/linux/${tag}/source/${path}${anchor}`);
}

/** Identifier search on Elixir for a function of an upstream release, or null. */
export function elixirIdentUrl(release: string | null | undefined, func: string): string | null {
  const tag = upstreamTag(release);
  const base = func.split('.')[0] ?? ''; // `foo.isra.0` -> `foo`
  if (!tag || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(base)) return null;
  return safeUrl(`https://elixir.bootlin.com/linux/${tag}/A/ident/${base}`);
}
