/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libsidedoor.so: the library a victim dlopens ("lib PATH") so an attacker can try to change
 * code under it. lib_answer() compiles to `mov $42,%eax; ret`, the bytes `attack code`
 * looks for and rewrites to return 1337.
 */
__attribute__((visibility("default"), noinline)) int lib_answer(void) { return 42; }
