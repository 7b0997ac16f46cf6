"""minigan.augment: DiffAugment, random augmentations that G's gradient flows through.

One file per augmentation, each a ``draw_*`` (random parameters, on the host), a forward
and its hand-written backward (the adjoint); :class:`DiffAugment` chains them as a
:class:`~minigan.nn.module.Module`. See docs/augmentation.md for the derivations.
"""
from .color import color, color_backward, draw_color
from .cutout import cutout, cutout_backward, cutout_mask, cutout_size, draw_cutout
from .diffaugment import POLICIES, DiffAugment, parse_policy
from .translation import draw_translation, max_shift, translate, translate_backward

__all__ = [
    "DiffAugment", "POLICIES", "parse_policy",
    "translate", "translate_backward", "draw_translation", "max_shift",
    "cutout", "cutout_backward", "cutout_mask", "draw_cutout", "cutout_size",
    "color", "color_backward", "draw_color",
]
