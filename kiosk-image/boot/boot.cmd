# The Palier board's boot script (arm64, U-Boot: Debian's u-boot-rpi on a Raspberry Pi,
# u-boot-qemu's qemu_arm64 in the tests). Starts system slot A (partition 2) or B
# (partition 3) the way RAUC's uboot backend expects, with kernel and initrd read from
# inside the slot. Compiled to boot.scr on the boot partition (mkimage -T script).
#
# palier.env on the boot partition (16 KiB, a CRC and the variables, as fw_setenv writes
# it; /etc/fw_env.config names it) holds BOOT_ORDER ("A B" or "B A") and BOOT_A_LEFT /
# BOOT_B_LEFT, the attempts a slot has left. RAUC writes them: an installed update goes
# first in BOOT_ORDER with 3 attempts, `rauc status mark-good` gives the slot its 3 again,
# `mark-bad` 0. Each boot takes one attempt of the first slot in BOOT_ORDER that has one
# left (a power cut during an early boot is forgiven twice); a slot whose system never
# proves itself is passed over and the other one starts. When no slot has attempts left,
# both get theirs back and the board restarts. An unreadable palier.env counts as a fresh
# one. The disk is the one this script was read from (`devtype`, `devnum`, set by U-Boot's
# distro boot), never a fixed mmc number.
echo "Palier: boot script read from ${devtype} ${devnum}"
setenv palier_env palier.env
setenv BOOT_ORDER "A B"
setenv BOOT_A_LEFT 3
setenv BOOT_B_LEFT 3
if load ${devtype} ${devnum}:1 ${loadaddr} ${palier_env}; then
	env import -c ${loadaddr} 0x4000 BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT || echo "Palier: ${palier_env} unreadable; slots start afresh"
fi
# A test bench may add kernel arguments (the serial console) in palier-extra.txt
# (`palier_extra=…`).
setenv palier_extra
if load ${devtype} ${devnum}:1 ${loadaddr} palier-extra.txt; then
	env import -t ${loadaddr} ${filesize} palier_extra
fi

setenv slot
for s in ${BOOT_ORDER}; do
	if test -z "${slot}"; then
		if test "${s}" = A && itest ${BOOT_A_LEFT} -gt 0; then
			setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
			setenv slot A
			setenv slot_part 2
		elif test "${s}" = B && itest ${BOOT_B_LEFT} -gt 0; then
			setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
			setenv slot B
			setenv slot_part 3
		fi
	fi
done
if test -z "${slot}"; then
	echo "Palier: no slot has attempts left; both get theirs back"
	setenv BOOT_A_LEFT 3
	setenv BOOT_B_LEFT 3
fi
env export -c -s 0x4000 ${loadaddr} BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT
fatwrite ${devtype} ${devnum}:1 ${loadaddr} ${palier_env} 0x4000
if test -z "${slot}"; then
	reset
fi

echo "Palier: starting slot ${slot} (order ${BOOT_ORDER}, attempts left A ${BOOT_A_LEFT} B ${BOOT_B_LEFT})"
part uuid ${devtype} ${devnum}:${slot_part} slot_uuid
setenv bootargs "root=PARTUUID=${slot_uuid} ro rootwait fsck.repair=yes rauc.slot=${slot} console=tty1 ${palier_extra}"
if load ${devtype} ${devnum}:${slot_part} ${kernel_addr_r} /vmlinuz && load ${devtype} ${devnum}:${slot_part} ${ramdisk_addr_r} /initrd.img; then
	# The device tree U-Boot was given (the Pi's firmware's, or QEMU's own).
	booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}
fi
echo "Palier: slot ${slot} did not start; restarting (its attempt is counted)"
reset
