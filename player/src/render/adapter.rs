//! Which GPU adapter the player takes, decided from what the adapters report (a pure
//! function, so the rule is tested without them).
//!
//! Refused: an adapter whose largest 2D texture is smaller than the largest screen side (a
//! slide is one texture the size of its screen), one that cannot draw into and sample the
//! slides' format, and, for windows, one that cannot present to them. Among the others:
//! hardware before software; on the Raspberry Pi's V3D, GL before Vulkan (wgpu on Mesa's
//! v3dv is reported to flicker and panic on a Pi 4, where wgpu's GL path on the same
//! driver family is the one users run, and weston composes with it; README "The GPU");
//! elsewhere Vulkan before GL; in software, lavapipe (Vulkan) before llvmpipe (GL), as
//! measured here. A software adapter taken while a hardware one was refused is a fallback
//! the log says.

/// What an adapter reports that the choice looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    /// The PCI vendor id (Broadcom 0x14e4 for V3D), or what the driver gives instead.
    pub vendor: u32,
    pub backend: wgpu::Backend,
    pub device_type: wgpu::DeviceType,
    pub max_texture_side: u32,
    /// Draws into and samples [`crate::render::format::SLIDE_FORMAT`].
    pub slide_format_usable: bool,
    /// Presents to the windows (always true offscreen).
    pub presents: bool,
}

/// What the slides need of an adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The longest side of the largest screen, in pixels.
    pub largest_side: u32,
}

impl Need {
    /// A full-HD screen either way up: what offscreen tools ask when no screen is named.
    pub const FULL_HD: Need = Need { largest_side: 1920 };
}

/// The adapter taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub index: usize,
    pub reason: String,
    /// Software taken while a hardware adapter was refused.
    pub fallback: bool,
}

/// An adapter left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub index: usize,
    pub reason: String,
}

/// Broadcom's PCI vendor id (the Raspberry Pi's V3D).
const BROADCOM: u32 = 0x14e4;

impl Candidate {
    pub fn is_software(&self) -> bool {
        self.device_type == wgpu::DeviceType::Cpu
    }

    pub fn is_v3d(&self) -> bool {
        self.vendor == BROADCOM || self.name.contains("V3D")
    }

    /// Why this adapter cannot show the slides, if it cannot.
    fn refusal(&self, need: Need) -> Option<String> {
        if !self.presents {
            Some("cannot present to the screens' windows".to_owned())
        } else if self.max_texture_side < need.largest_side {
            Some(format!(
                "its largest texture is {} px, and a screen is {} px long",
                self.max_texture_side, need.largest_side
            ))
        } else if !self.slide_format_usable {
            Some("cannot draw into and sample the slides' RGBA8 textures".to_owned())
        } else {
            None
        }
    }

    /// Lower ranks first: hardware, then the backend its driver runs best.
    fn rank(&self) -> (bool, u8) {
        let gl_first = self.is_v3d() && !self.is_software();
        let backend = match (self.backend, gl_first) {
            (wgpu::Backend::Gl, true) | (wgpu::Backend::Vulkan, false) => 0,
            (wgpu::Backend::Vulkan, true) | (wgpu::Backend::Gl, false) => 1,
            _ => 2,
        };
        (self.is_software(), backend)
    }

    fn preference(&self) -> &'static str {
        match (self.is_software(), self.is_v3d(), self.backend) {
            (false, true, wgpu::Backend::Gl) => "V3D takes GL before Vulkan",
            (false, _, _) => "hardware, Vulkan before GL",
            (true, _, wgpu::Backend::Vulkan) => "software, lavapipe before llvmpipe",
            (true, _, _) => "software",
        }
    }
}

/// The best usable adapter of `candidates` (in the order they were found, which breaks
/// ties), and every refusal.
pub fn choose(candidates: &[Candidate], need: Need) -> (Option<Choice>, Vec<Refusal>) {
    let mut refusals = Vec::new();
    let mut usable = Vec::new();
    for (index, candidate) in candidates.iter().enumerate() {
        match candidate.refusal(need) {
            Some(reason) => refusals.push(Refusal { index, reason }),
            None => usable.push(index),
        }
    }
    let best = usable.iter().copied().min_by_key(|&i| (candidates[i].rank(), i));
    let choice = best.map(|index| {
        let taken = &candidates[index];
        let refused_hardware = refusals.iter().any(|r| !candidates[r.index].is_software());
        let fallback = taken.is_software() && refused_hardware;
        let reason = if usable.len() == 1 {
            format!("the only adapter that can show the slides ({})", taken.preference())
        } else {
            taken.preference().to_owned()
        };
        Choice { index, reason, fallback }
    });
    (choice, refusals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wgpu::{Backend, DeviceType};

    fn adapter(name: &str, vendor: u32, backend: Backend, device_type: DeviceType, side: u32) -> Candidate {
        Candidate {
            name: name.to_owned(),
            vendor,
            backend,
            device_type,
            max_texture_side: side,
            slide_format_usable: true,
            presents: true,
        }
    }

    fn v3d(backend: Backend) -> Candidate {
        adapter("V3D 4.2", BROADCOM, backend, DeviceType::IntegratedGpu, 4096)
    }

    fn lavapipe() -> Candidate {
        adapter("llvmpipe (LLVM 15.0.6, 256 bits)", 0x10005, Backend::Vulkan, DeviceType::Cpu, 16384)
    }

    fn llvmpipe() -> Candidate {
        adapter("llvmpipe (LLVM 15.0.6, 256 bits)", 0, Backend::Gl, DeviceType::Cpu, 16384)
    }

    fn intel(backend: Backend) -> Candidate {
        adapter("Intel(R) UHD Graphics 620", 0x8086, backend, DeviceType::IntegratedGpu, 16384)
    }

    #[test]
    fn the_adapter_taken_follows_the_rule() {
        let unpresentable = Candidate { presents: false, ..intel(Backend::Vulkan) };
        let no_rgba8 = Candidate { slide_format_usable: false, ..v3d(Backend::Gl) };
        let small = adapter("Mali-400", 0x13b5, Backend::Gl, DeviceType::IntegratedGpu, 2048);
        // (what was found, the largest screen side, the index taken, fallback, refused)
        let cases: Vec<(Vec<Candidate>, u32, Option<usize>, bool, Vec<usize>)> = vec![
            // A Pi 4: V3D on both backends, the software ones beside them.
            (
                vec![v3d(Backend::Vulkan), v3d(Backend::Gl), lavapipe(), llvmpipe()],
                1920,
                Some(1),
                false,
                vec![],
            ),
            // A PC: Vulkan first.
            (vec![intel(Backend::Gl), intel(Backend::Vulkan), llvmpipe()], 3840, Some(1), false, vec![]),
            // This machine: lavapipe before llvmpipe, whatever the order found.
            (vec![llvmpipe(), lavapipe()], 1920, Some(1), false, vec![]),
            // V3D's 4096 px are too few for a screen 5000 px long: software, said as a fallback.
            (vec![v3d(Backend::Vulkan), v3d(Backend::Gl), llvmpipe()], 5000, Some(2), true, vec![0, 1]),
            // GL on V3D without RGBA8 rendering: its Vulkan adapter.
            (vec![v3d(Backend::Vulkan), no_rgba8], 1920, Some(0), false, vec![1]),
            // An old GPU with 2048 px textures and a 1920 px screen: still fine.
            (vec![small.clone()], 1920, Some(0), false, vec![]),
            (vec![small], 2160, None, false, vec![0]),
            // A window the adapter cannot present to.
            (vec![unpresentable, lavapipe()], 1080, Some(1), true, vec![0]),
            (vec![], 1920, None, false, vec![]),
        ];
        for (candidates, side, taken, fallback, refused) in cases {
            let names: Vec<String> =
                candidates.iter().map(|c| format!("{} {:?}", c.name, c.backend)).collect();
            let (choice, refusals) = choose(&candidates, Need { largest_side: side });
            assert_eq!(choice.as_ref().map(|c| c.index), taken, "{names:?} for {side} px");
            assert_eq!(choice.as_ref().is_some_and(|c| c.fallback), fallback, "{names:?} for {side} px");
            assert_eq!(
                refusals.iter().map(|r| r.index).collect::<Vec<_>>(),
                refused,
                "{names:?} for {side} px"
            );
        }
    }

    #[test]
    fn reasons_say_what_decided() {
        let (choice, _) = choose(&[v3d(Backend::Vulkan), v3d(Backend::Gl)], Need::FULL_HD);
        assert_eq!(choice.unwrap().reason, "V3D takes GL before Vulkan");
        let (choice, _) = choose(&[lavapipe()], Need::FULL_HD);
        assert_eq!(
            choice.unwrap().reason,
            "the only adapter that can show the slides (software, lavapipe before llvmpipe)"
        );
        let (_, refusals) = choose(&[v3d(Backend::Gl)], Need { largest_side: 8000 });
        assert_eq!(refusals[0].reason, "its largest texture is 4096 px, and a screen is 8000 px long");
    }
}
