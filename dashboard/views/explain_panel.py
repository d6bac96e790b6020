"""The explanation panel shared by Classify and the Collapse inspector: which stored steps (and so
which decoded frames) drove a member's or the ensemble's vote, how faithful each way of saying so
is on this clip, and, when the frames are at hand, which regions of them (Grad-CAM)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core.evaluation.clip_frames import FrameStrip, frame_strip_of, stored_clip_recipe
from core.evaluation.predictions import SplitPredictions
from core.explain.deletion import drop_after
from core.explain.explanation import Explanation
from core.explain.frames import scores_by_frame
from core.explain.predictor import ENSEMBLE_NAME, explained_predictor, predicted_class
from core.explain.reading import attention_above_uniform, methods_ranking_alike, uniform_share
from core.explain.temporal import METHODS
from core.features.backbones import BackboneError
from core.features.extraction import FeaturizedClip
from core.features.recipe import FeatureRecipe
from core.model.checkpoints import LoadedCheckpoint
from dashboard.cache import (
    decoded_frames,
    explanations,
    fingerprint,
    frame_strip,
    saliency,
    stored_sequence,
)
from dashboard.context import DashboardContext
from dashboard.explain_charts import (
    METHOD_LABELS,
    colour_scale_figure,
    deletion_figure,
    frame_scores_figure,
)
from dashboard.explain_statements import (
    FAITHFUL_RULE,
    agreement_sentence,
    attention_sentence,
    curve_sentence,
    faithfulness_sentence,
    grad_cam_reading,
    random_spread,
)
from dashboard.plain_text import plain
from dashboard.theme import short_name

# A member this large (the original's 1280-d, H768, 4-layer BiLSTM has ~50M) takes seconds per
# method on a CPU: the panel then shows a progress bar instead of a spinner.
HEAVY_PARAMETERS = 5_000_000
REMOVED = 3
HOW_TO_READ = {
    "occlusion": "how much p({cls}) drops when the frame's steps are replaced by the mean of the clip's "
    "other steps",
    "integrated_gradients": "the gradient of p({cls}) integrated along the path from a clip whose every step "
    "is the mean of the others to the real clip (the bars add up to the difference)",
    "attention": "the share of the pooling weight the model put on the frame's steps (it is the same "
    "for every class)",
}


@dataclass(frozen=True)
class ExplainedClip:
    key: str
    """Content key: the features file's fingerprint and row, or the upload's hash."""
    name: str
    sequence: np.ndarray
    class_names: list[str]
    true_label: int | None
    recipe: FeatureRecipe | None
    strip: FrameStrip | None
    frames: Callable[[], np.ndarray | str] | None
    """Loads all decoded frames (or says why not); None when no video file is at hand."""
    no_frames_reason: str = ""


def is_heavy(members: list[LoadedCheckpoint]) -> bool:
    on_cpu = all(next(m.model.parameters()).device.type == "cpu" for m in members)
    return on_cpu and any(sum(p.numel() for p in m.model.parameters()) > HEAVY_PARAMETERS for m in members)


def compute_explanations(
    clip: ExplainedClip, members: list[LoadedCheckpoint], member: str | None, target: int
) -> dict[str, Explanation]:
    predictor = explained_predictor(members, member, target)
    chosen = members if member is None else [m for m in members if m.name == member]
    args = (clip.key, chosen, predictor, clip.sequence, clip.name, clip.class_names)
    if not is_heavy(chosen):
        with st.spinner("Explaining the verdict…"):
            return explanations(*args)
    bar = st.progress(0.0, text=f"Explaining {short_name(predictor.name)}'s vote on the CPU…")

    def report(done: int, total: int) -> None:
        bar.progress(
            done / total,
            text=f"Explaining {short_name(predictor.name)}'s vote on the CPU: "
            f"part {min(done, total)} of {total}",
        )

    try:
        return explanations(*args, progress=report)
    finally:
        bar.empty()


def per_frame(steps: np.ndarray, recipe: FeatureRecipe | None) -> np.ndarray:
    by_frame = scores_by_frame(steps, recipe)
    return steps if by_frame is None else by_frame


def choose_predictor_and_target(
    clip: ExplainedClip, members: list[LoadedCheckpoint], key: str
) -> tuple[str | None, int]:
    left, right = st.columns(2)
    options = [ENSEMBLE_NAME, *(m.name for m in members)]
    chosen = left.selectbox(
        "Explain",
        options,
        format_func=short_name,
        key=f"{key}_explain_who",
        help="The ensemble is the soft vote of the chosen members.",
    )
    member = None if chosen == ENSEMBLE_NAME else chosen
    predicted = predicted_class(members, member, clip.sequence)

    def label(index: int) -> str:
        notes = [
            note
            for note, hit in (("predicted", index == predicted), ("true", index == clip.true_label))
            if hit
        ]
        return clip.class_names[index] + (f" ({', '.join(notes)})" if notes else "")

    target = right.selectbox(
        "Towards the class",
        range(len(clip.class_names)),
        index=predicted,
        format_func=label,
        key=f"{key}_explain_target_{chosen}",
        help="Predicted: by the explained member or ensemble, without test-time augmentation.",
    )
    return member, int(target)


def faithfulness_table(explained: dict[str, Explanation]) -> pd.DataFrame:
    """Per method: its deletion area, whether it is below every random order's, and the drop after
    removing its top steps (the random orders' spread is given once below: it is the same for
    every method)."""
    return pd.DataFrame(
        {
            "method": METHOD_LABELS[method],
            "area": explanation.deletion_area,
            "faithful": "yes" if explanation.faithful else "no",
            f"top-{REMOVED} drop": drop_after(explanation.deletion_curve, REMOVED, explanation.points),
        }
        for method, explanation in explained.items()
    )


def render_frame_scores(
    clip: ExplainedClip, explained: dict[str, Explanation], method: str, who: str, key: str
) -> str:
    """The method's scores per frame under the strip, and how to read them; returns the class."""
    class_name = explained[method].target
    steps = explained[method].steps
    scores = per_frame(steps, clip.recipe)
    attention = per_frame(explained["attention"].steps, clip.recipe)
    uniform = uniform_share(len(steps), clip.recipe)
    images = clip.strip.images if clip.strip else []
    positions = clip.strip.positions if clip.strip else []
    title = f"{METHOD_LABELS[method]} per frame, towards {class_name}"
    figure = frame_scores_figure(scores, attention, method, title, images, positions, uniform)
    st.plotly_chart(figure, key=f"{key}_explain_frames")
    unit = "frame" if clip.recipe is not None and len(scores) != len(steps) else "step"
    lines = (
        "the dotted line is each frame's uniform share"
        if method == "attention"
        else "the orange line is the pooling attention and the dotted one its uniform share"
    )
    st.caption(
        f"How to read it: each bar is {HOW_TO_READ[method].format(cls=class_name)}, for {who}. Green "
        f"bars support {class_name}, grey ones work against it; {lines}. Every stored step averages one "
        f"frame per scale, so a {unit}'s bar sums its share of every step that contains it."
    )
    favoured = attention_above_uniform(explained["attention"].steps, clip.recipe)
    st.caption(attention_sentence(favoured, len(steps), unit))
    return class_name


def render_temporal(clip: ExplainedClip, explained: dict[str, Explanation], who: str, key: str) -> str:
    method = st.radio(
        "Method", METHODS, format_func=METHOD_LABELS.get, horizontal=True, key=f"{key}_explain_method"
    )
    class_name = render_frame_scores(clip, explained, method, who, key)
    agreements = methods_ranking_alike(explained)
    for agreement in agreements:
        st.caption(agreement_sentence(agreement))
    st.plotly_chart(deletion_figure(explained, class_name, agreements), key=f"{key}_explain_deletion")
    table = faithfulness_table(explained)
    numbers = {c: st.column_config.NumberColumn(format="%.4f") for c in ("area", f"top-{REMOVED} drop")}
    st.dataframe(table, hide_index=True, key=f"{key}_explain_table", column_config=numbers)
    first = explained[method]
    st.caption(
        f"Area: under the deletion curve over the removed fraction, on p({class_name}) from 0 to 1 (lower: "
        f"p({class_name}) falls sooner). The grey band spans the {len(first.random_deletion_areas)} random "
        f"orders, areas {random_spread(first)}. {FAITHFUL_RULE} {curve_sentence(first)}".strip()
    )
    st.markdown(faithfulness_sentence(explained, agreements, who, class_name))
    return method


def render_spatial(
    clip: ExplainedClip, members: list[LoadedCheckpoint], member: str | None, target: int, key: str
) -> None:
    if clip.frames is None or clip.recipe is None:
        reason = clip.no_frames_reason or "the features file records no recipe to decode the frames with"
        st.info(f"Spatial saliency is hidden: {reason}. The step scores above need only the stored features.")
        return
    if not st.toggle("Where in the frames (Grad-CAM)", value=True, key=f"{key}_explain_gradcam"):
        return
    frames = clip.frames()
    if isinstance(frames, str):
        st.warning(f"Spatial saliency is hidden: the frames could not be decoded ({plain(frames)}).")
        return
    positions = clip.strip.positions if clip.strip else np.arange(len(frames))
    predictor = explained_predictor(members, member, target)
    chosen = members if member is None else [m for m in members if m.name == member]
    try:
        maps = saliency(clip.key, chosen, predictor, clip.recipe, frames, positions)
    except BackboneError as exc:
        st.info(f"Spatial saliency is hidden: {plain(exc)}.")
        return
    class_name = clip.class_names[target]
    flat_frames = set(maps.positions[maps.flat].tolist())
    captions = [f"frame {p} · flat" if p in flat_frames else f"frame {p}" for p in maps.positions.tolist()]
    st.image(maps.overlays, caption=captions, width=120)
    if maps.peak <= 0:
        st.info(
            f"Grad-CAM is zero on every shown frame: no region of them raised p({class_name}) for "
            f"{short_name(predictor.name)}, so the frames carry no map."
        )
        return
    st.plotly_chart(colour_scale_figure(maps.peak), key=f"{key}_explain_gradcam_scale", theme=None)
    st.caption(grad_cam_reading(maps, class_name, short_name(predictor.name)))


def render_explanations(
    clip: ExplainedClip, members: list[LoadedCheckpoint], key: str, *, on_by_default: bool = True
) -> None:
    """The whole panel for one clip and the chosen members, behind a toggle."""
    st.subheader("Why this verdict")
    if not st.toggle("Explain this verdict", value=on_by_default, key=f"{key}_explain"):
        st.caption("Scores each stored step (and, with the frames at hand, each region) towards a class.")
        return
    member, target = choose_predictor_and_target(clip, members, key)
    explained = compute_explanations(clip, members, member, target)
    who = short_name(member or ENSEMBLE_NAME)
    render_temporal(clip, explained, who, key)
    render_spatial(clip, members, member, target, key)


def chosen_members(context: DashboardContext, chosen: list[str]) -> list[LoadedCheckpoint]:
    return [m for m in context.members.members if m.name in chosen]


def render_stored_clip_explanations(
    context: DashboardContext, index: int, chosen: list[str], path: Path | None
) -> None:
    """Classify, a test video: row `index` of the analysed features, its file at `path` if found."""
    split, analysed = context.split, context.analysed
    if split is None or analysed is None:
        return
    members = chosen_members(context, chosen)
    recipe = stored_clip_recipe(analysed.recipe, members)
    strip = frame_strip(path, recipe.num_frames, recipe.image_size) if path and recipe else None
    clip = ExplainedClip(
        key=f"{fingerprint(analysed.path)}:{index}",
        name=split.video_names[index],
        sequence=stored_sequence(analysed.path, index),
        class_names=split.class_names,
        true_label=int(split.labels[index]),
        recipe=recipe,
        strip=strip if isinstance(strip, FrameStrip) else None,
        frames=None if path is None or recipe is None else (
            lambda: decoded_frames(path, recipe.num_frames, recipe.image_size)),
        no_frames_reason="the video file is not on disk (see where it was looked for above), and Grad-CAM "
        "needs its frames",
    )  # fmt: skip
    render_explanations(clip, members, "classify")


def render_upload_explanations(
    context: DashboardContext,
    digest: str,
    name: str,
    result: FeaturizedClip,
    chosen: list[str],
    true_label: int | None,
    recipe: FeatureRecipe,
) -> None:
    """Classify, an upload: its features and decoded frames are at hand."""
    members = chosen_members(context, chosen)
    clip = ExplainedClip(
        key=digest,
        name=name,
        sequence=result.features,
        class_names=list(members[0].class_names),
        true_label=true_label,
        recipe=recipe,
        strip=frame_strip_of(result.clip.frames),
        frames=lambda: result.clip.frames,
    )
    # Off at first: computing it in the run that brings an upload's verdict delayed that verdict.
    render_explanations(clip, members, "classify_upload", on_by_default=False)


def healthy_member(split: SplitPredictions, member: str, class_index: int) -> str:
    """The other member with the best F1 on the class."""
    others = [m for m in split.member_names if m != member]
    return max(others, key=lambda m: split.metrics(m).f1_per_class[class_index])


def render_collapse_explanations(
    context: DashboardContext, split: SplitPredictions, member: str, class_index: int
) -> None:
    """For the inspected member's misclassified videos of the class: its step scores beside the
    healthiest other member's, on the same video, towards the true class."""
    class_name = split.class_names[class_index]
    st.subheader("Which frames misled it")
    wrong = np.flatnonzero((split.labels == class_index) & (split.predictions(member) != class_index))
    if not len(wrong) or context.analysed is None:
        st.caption(f"{short_name(member)} misclassifies none of the {class_name} videos.")
        return
    healthy = healthy_member(split, member, class_index)
    index = int(
        st.selectbox(
            f"{class_name} video {short_name(member)} got wrong",
            wrong,
            format_func=lambda i: split.video_names[i],
            key="collapse_explain_video",
        )
    )
    method = st.radio(
        "Method", METHODS, format_func=METHOD_LABELS.get, horizontal=True, key="collapse_explain_method"
    )
    sequence = stored_sequence(context.analysed.path, index)
    clip = ExplainedClip(
        f"{fingerprint(context.analysed.path)}:{index}",
        split.video_names[index],
        sequence,
        split.class_names,
        class_index,
        context.analysed.recipe,
        None,
        None,
    )
    loaded = {m.name: m for m in context.members.members}
    for column, name in zip(st.columns(2), (member, healthy), strict=True):
        explained = compute_explanations(clip, [loaded[name]], name, class_index)[method]
        predicted = split.class_names[int(split.predictions(name)[index])]
        with column:
            title = f"{short_name(name)} (predicted {predicted})"
            figure = frame_scores_figure(per_frame(explained.steps, clip.recipe), None, method, title)
            st.plotly_chart(figure, key=f"collapse_explain_{name}")
            verdict = "faithful" if explained.faithful else "not faithful: no step matters much on its own"
            st.caption(
                f"p({class_name}) {explained.deletion_curve[0]:.3f}; deletion area "
                f"{explained.deletion_area:.4f}, random orders {random_spread(explained)}: {verdict}."
            )
    st.caption(
        f"Both towards the true class, {class_name}, by {METHOD_LABELS[method].lower()}: "
        f"{HOW_TO_READ[method].format(cls=class_name)}. {short_name(healthy)} has the best {class_name} F1 "
        "of the other members; where the two disagree on which frames matter, the collapsed member is "
        "reading the clip differently, not just scoring it lower."
    )
