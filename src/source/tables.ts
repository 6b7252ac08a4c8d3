// Kernel vocabulary as data: which calls write bits, which register callbacks, which trigger a
// registered callback, and which registrations or ops tables make a function an entry point.

/** Bit operations on `(nr, addr)`: include/asm-generic/bitops/{atomic,non-atomic,lock}.h. */
export const BITOPS: Record<
  string,
  'set' | 'clear' | 'change' | 'test_and_set' | 'test_and_clear' | 'test_and_change'
> = {
  set_bit: 'set',
  __set_bit: 'set',
  set_bit_lock: 'set',
  clear_bit: 'clear',
  __clear_bit: 'clear',
  clear_bit_unlock: 'clear',
  __clear_bit_unlock: 'clear',
  clear_and_wake_up_bit: 'clear',
  change_bit: 'change',
  __change_bit: 'change',
  test_and_set_bit: 'test_and_set',
  __test_and_set_bit: 'test_and_set',
  test_and_set_bit_lock: 'test_and_set',
  test_and_clear_bit: 'test_and_clear',
  __test_and_clear_bit: 'test_and_clear',
  test_and_change_bit: 'test_and_change',
  __test_and_change_bit: 'test_and_change',
  clear_bit_unlock_is_negative_byte: 'clear',
  assign_bit: 'change',
  __assign_bit: 'change',
};

/** Which argument of a bit operation is the address (others take `(nr, addr)`). */
export const BITOP_ADDR_ARG: Record<string, number> = { assign_bit: 1, __assign_bit: 1 };
export const BITOP_BIT_ARG: Record<string, number> = { assign_bit: 0, __assign_bit: 0 };

/** What kind of entry a callback registration makes: shown in `--to-entry` and callers output. */
export type EntryKind =
  | 'syscall'
  | 'vfs-op'
  | 'aops'
  | 'workqueue'
  | 'delayed-work'
  | 'rpc-callback'
  | 'timer'
  | 'hrtimer'
  | 'softirq'
  | 'tasklet'
  | 'rcu'
  | 'kthread'
  | 'irq'
  | 'module-init'
  | 'module-exit'
  | 'initcall'
  | 'notifier';

/**
 * Registration calls inside function bodies: `fn` is the argument holding the callback, `obj` (if
 * any) the object it is attached to (a work item, timer, rcu head) so that a later `queue_work(wq,
 * &x->work)` on the same struct type and field can be joined to the callback.
 */
export interface Registration {
  kind: EntryKind;
  fn: number[];
  obj?: number;
}
export const REGISTRATIONS: Record<string, Registration> = {
  INIT_WORK: { kind: 'workqueue', fn: [1], obj: 0 },
  INIT_WORK_ONSTACK: { kind: 'workqueue', fn: [1], obj: 0 },
  __INIT_WORK: { kind: 'workqueue', fn: [1], obj: 0 },
  INIT_DELAYED_WORK: { kind: 'delayed-work', fn: [1], obj: 0 },
  INIT_DELAYED_WORK_ONSTACK: { kind: 'delayed-work', fn: [1], obj: 0 },
  INIT_DEFERRABLE_WORK: { kind: 'delayed-work', fn: [1], obj: 0 },
  __INIT_DELAYED_WORK: { kind: 'delayed-work', fn: [1], obj: 0 },
  INIT_RCU_WORK: { kind: 'workqueue', fn: [1], obj: 0 },
  INIT_KTHREAD_WORK: { kind: 'kthread', fn: [1], obj: 0 },
  kthread_init_work: { kind: 'kthread', fn: [1], obj: 0 },
  kthread_init_delayed_work: { kind: 'kthread', fn: [1], obj: 0 },
  timer_setup: { kind: 'timer', fn: [1], obj: 0 },
  timer_setup_on_stack: { kind: 'timer', fn: [1], obj: 0 },
  setup_timer: { kind: 'timer', fn: [1], obj: 0 },
  setup_deferrable_timer: { kind: 'timer', fn: [1], obj: 0 },
  call_rcu: { kind: 'rcu', fn: [1], obj: 0 },
  call_rcu_hurry: { kind: 'rcu', fn: [1], obj: 0 },
  call_srcu: { kind: 'rcu', fn: [2], obj: 1 },
  call_rcu_tasks: { kind: 'rcu', fn: [1], obj: 0 },
  tasklet_setup: { kind: 'tasklet', fn: [1], obj: 0 },
  tasklet_init: { kind: 'tasklet', fn: [1], obj: 0 },
  tasklet_hrtimer_init: { kind: 'tasklet', fn: [1], obj: 0 },
  open_softirq: { kind: 'softirq', fn: [1] },
  kthread_run: { kind: 'kthread', fn: [0] },
  kthread_create: { kind: 'kthread', fn: [0] },
  kthread_create_on_node: { kind: 'kthread', fn: [0] },
  kthread_create_on_cpu: { kind: 'kthread', fn: [0] },
  kthread_run_on_cpu: { kind: 'kthread', fn: [0] },
  kthread_create_worker: { kind: 'kthread', fn: [] },
  request_irq: { kind: 'irq', fn: [1] },
  request_threaded_irq: { kind: 'irq', fn: [1, 2] },
  request_any_context_irq: { kind: 'irq', fn: [1] },
  request_percpu_irq: { kind: 'irq', fn: [1] },
  devm_request_irq: { kind: 'irq', fn: [2] },
  devm_request_threaded_irq: { kind: 'irq', fn: [2, 3] },
  devm_request_any_context_irq: { kind: 'irq', fn: [2] },
  register_reboot_notifier: { kind: 'notifier', fn: [] },
};

/** Calls that run a callback registered earlier on the object in argument `obj`. */
export const TRIGGERS: Record<string, { kind: EntryKind; obj: number }> = {
  queue_work: { kind: 'workqueue', obj: 1 },
  queue_work_on: { kind: 'workqueue', obj: 2 },
  queue_work_node: { kind: 'workqueue', obj: 2 },
  schedule_work: { kind: 'workqueue', obj: 0 },
  schedule_work_on: { kind: 'workqueue', obj: 1 },
  queue_rcu_work: { kind: 'workqueue', obj: 1 },
  queue_delayed_work: { kind: 'delayed-work', obj: 1 },
  queue_delayed_work_on: { kind: 'delayed-work', obj: 2 },
  mod_delayed_work: { kind: 'delayed-work', obj: 1 },
  mod_delayed_work_on: { kind: 'delayed-work', obj: 2 },
  schedule_delayed_work: { kind: 'delayed-work', obj: 0 },
  schedule_delayed_work_on: { kind: 'delayed-work', obj: 1 },
  kthread_queue_work: { kind: 'kthread', obj: 1 },
  kthread_queue_delayed_work: { kind: 'kthread', obj: 1 },
  mod_timer: { kind: 'timer', obj: 0 },
  add_timer: { kind: 'timer', obj: 0 },
  add_timer_on: { kind: 'timer', obj: 0 },
  timer_reduce: { kind: 'timer', obj: 0 },
  mod_timer_pending: { kind: 'timer', obj: 0 },
  tasklet_schedule: { kind: 'tasklet', obj: 0 },
  tasklet_hi_schedule: { kind: 'tasklet', obj: 0 },
};

/** Top-level registration macros, one callback argument (scanned line by line). */
export const TOPLEVEL_REGISTRATIONS: Record<string, { kind: EntryKind; fn: number }> = {
  module_init: { kind: 'module-init', fn: 0 },
  module_exit: { kind: 'module-exit', fn: 0 },
  late_initcall: { kind: 'initcall', fn: 0 },
  late_initcall_sync: { kind: 'initcall', fn: 0 },
  core_initcall: { kind: 'initcall', fn: 0 },
  core_initcall_sync: { kind: 'initcall', fn: 0 },
  postcore_initcall: { kind: 'initcall', fn: 0 },
  arch_initcall: { kind: 'initcall', fn: 0 },
  subsys_initcall: { kind: 'initcall', fn: 0 },
  subsys_initcall_sync: { kind: 'initcall', fn: 0 },
  fs_initcall: { kind: 'initcall', fn: 0 },
  fs_initcall_sync: { kind: 'initcall', fn: 0 },
  rootfs_initcall: { kind: 'initcall', fn: 0 },
  device_initcall: { kind: 'initcall', fn: 0 },
  device_initcall_sync: { kind: 'initcall', fn: 0 },
  early_initcall: { kind: 'initcall', fn: 0 },
  pure_initcall: { kind: 'initcall', fn: 0 },
  __initcall: { kind: 'initcall', fn: 0 },
  console_initcall: { kind: 'initcall', fn: 0 },
  security_initcall: { kind: 'initcall', fn: 0 },
  DECLARE_WORK: { kind: 'workqueue', fn: 1 },
  DECLARE_DELAYED_WORK: { kind: 'delayed-work', fn: 1 },
  DECLARE_DEFERRABLE_WORK: { kind: 'delayed-work', fn: 1 },
  DEFINE_TIMER: { kind: 'timer', fn: 1 },
  DECLARE_TASKLET: { kind: 'tasklet', fn: 1 },
  DECLARE_TASKLET_OLD: { kind: 'tasklet', fn: 1 },
  DECLARE_TASKLET_DISABLED: { kind: 'tasklet', fn: 1 },
};

/** Ops structures whose members the VFS, the page cache or SUNRPC call: entry points. */
export const ENTRY_OPS: Record<string, EntryKind> = {
  file_operations: 'vfs-op',
  inode_operations: 'vfs-op',
  super_operations: 'vfs-op',
  dentry_operations: 'vfs-op',
  export_operations: 'vfs-op',
  xattr_handler: 'vfs-op',
  file_system_type: 'vfs-op',
  fs_context_operations: 'vfs-op',
  file_lock_operations: 'vfs-op',
  lock_manager_operations: 'vfs-op',
  vm_operations_struct: 'vfs-op',
  seq_operations: 'vfs-op',
  proc_ops: 'vfs-op',
  address_space_operations: 'aops',
  rpc_call_ops: 'rpc-callback',
  rpc_procinfo: 'rpc-callback',
  svc_version: 'rpc-callback',
  svc_procedure: 'rpc-callback',
  rpc_authops: 'rpc-callback',
  hrtimer: 'hrtimer',
  proto_ops: 'vfs-op',
  net_device_ops: 'vfs-op',
  block_device_operations: 'vfs-op',
};

/** Member assignments that register a callback (`t->function = f` for an hrtimer). */
export const ENTRY_FIELD_ASSIGN: Record<string, EntryKind> = {
  'hrtimer.function': 'hrtimer',
};

/** Every function name that is a macro call in the tables above, for the extractor's filter. */
export const INTERESTING_CALLS = new Set<string>([
  ...Object.keys(BITOPS),
  ...Object.keys(REGISTRATIONS),
  ...Object.keys(TRIGGERS),
]);
