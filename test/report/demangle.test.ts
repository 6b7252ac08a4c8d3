import { describe, expect, it } from 'vitest';
import { demangle } from '../../src/report/demangle.ts';

describe('demangle', () => {
  it('demangles Rust v0 paths, inherent and trait impls, with backrefs', () => {
    expect(demangle('_RNvCscSpY9Juk0HT_7___rustc17rust_begin_unwind')).toBe('__rustc::rust_begin_unwind');
    expect(demangle('_RNvMs3_NtCshgDM7dBCdno_11rust_binder7processNtB5_7Process10update_ref')).toBe(
      '<rust_binder::process::Process>::update_ref',
    );
    expect(
      demangle(
        '_RNvXs1b_NtCs9jEwPDbx20M_4core3fmtRNtNtNtB8_5panic10panic_info9PanicInfoNtB6_7Display3fmtCs43vyB533jt3_6kernel',
      ),
    ).toBe('<&core::panic::panic_info::PanicInfo as core::fmt::Display>::fmt');
  });

  it('demangles Itanium C++ names without parameters', () => {
    expect(demangle('_Z8fakeNameiii')).toBe('fakeName');
    expect(demangle('_ZN3foo3barEv')).toBe('foo::bar');
  });

  it('leaves C names and garbage alone', () => {
    for (const s of ['nfs_unlock_request', '_R', '_Rxyz', '_Z', '_Z99x', '_RNvB9999_3foo'])
      expect(demangle(s)).toBe(s);
  });
});
