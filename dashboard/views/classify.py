"""Classify one clip — a test video picked by name and filters, an uploaded file or a URL — and show
every predictor's probabilities, the verdict, and which frames the members attended to."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from core.demo.bundle import demo_bundle_present
from core.evaluation.clip_frames import FrameStrip, chosen_attention, frame_strip_of, stored_clip_recipe
from core.evaluation.clip_verdict import (
    MemberVotes,
    Verdict,
    clip_table,
    clip_verdict,
    member_votes,
    top_frames,
)
from core.evaluation.filters import filter_video_table
from core.evaluation.predictions import SplitPredictions
from core.features.backbones import BackboneError, load_backbone
from core.features.extraction import (
    FeaturizedClip,
    RecipeError,
    check_recipe_fits_models,
    featurize_clip_with_frames,
    resolve_classification_recipe,
)
from core.features.recipe import FeatureRecipe
from core.features.weights_download import ensure_backbone_weights
from core.model.inference import SequencePrediction, predictor_probabilities
from core.video.decode import VideoDecodeError
from core.video.lookup import find_video_file, video_file_candidates
from core.video.player import native_mime_type
from core.video.uploads import (
    UPLOAD_TYPES,
    UnsupportedUpload,
    upload_as_temp_file,
)
from dashboard import url_state
from dashboard.cache import (
    frame_strip,
    playable_upload,
    playable_video,
    stored_clip_prediction,
    upload_mime_type,
    upload_prediction,
)
from dashboard.charts import attention_strip, probability_bars
from dashboard.context import DashboardContext, require_split
from dashboard.navigation import take_incoming_video
from dashboard.plain_text import code, plain
from dashboard.theme import MAX_PICKER_OPTIONS, PERCENT_FORMAT, pct, short_name
from dashboard.views.clip_result import render_downloads, render_unchanged_modes
from dashboard.views.clip_url import url_clip
from dashboard.views.explain_panel import render_stored_clip_explanations, render_upload_explanations
from dashboard.weights_progress import download_reporter

TEST_VIDEO = "A test video"
UPLOAD = "An uploaded clip"
BY_URL = "A video URL"
FILTER_DEFAULTS = {
    "classify_query": "",
    "classify_classes": [],
    "classify_subcategories": [],
    "classify_misclassified": False,
    "classify_disagree": False,
}
UPLOAD_RESULT_KEY = "classify_upload_result"
PLAYER_KEY = "classify_show_player"
# The view's state lives in the URL (reload, shared link), written by the page itself: widget
# binding (`bind="query-params"`) stores a selectbox's label, and its URL updates were lost here
# once the page also wrote a parameter.
VIDEO_PARAM, MEMBERS_PARAM, TTA_PARAM = "video", "members", "tta"
SOURCE_PARAM, UPLOAD_SOURCE = "source", "upload"
# The filters above the video picker: session key -> URL parameter.
FILTER_PARAMS = {
    "classify_query": "q",
    "classify_classes": "class",
    "classify_subcategories": "subcategory",
    "classify_misclassified": "misclassified",
    "classify_disagree": "disagree",
}


def accept_incoming_video(split: SplitPredictions | None) -> None:
    """Another page asked to show a video: select it, with the filters cleared so it is listed."""
    name = take_incoming_video()
    if name is None or split is None:
        return
    if name not in split.video_names:
        st.warning(f"Video {plain(name)} is not in the analysed features file.")
        return
    st.session_state.update(FILTER_DEFAULTS)
    st.session_state["classify_source"] = TEST_VIDEO
    st.session_state["classify_index"] = split.video_names.index(name)
    st.query_params[VIDEO_PARAM] = name


def choose_members(context: DashboardContext) -> tuple[list[str], bool]:
    left, right = st.columns([3, 1])
    # The state holds the members (all of them, or the link's), so the widget takes no default:
    # a default beside a value set through Session State makes Streamlit log a warning.
    st.session_state.setdefault("classify_members", list(context.member_names))
    st.session_state.setdefault("classify_tta", True)
    chosen = left.multiselect(
        "Ensemble members",
        context.member_names,
        format_func=short_name,
        key="classify_members",
        help="Applied instantly to stored probabilities; no model is re-run.",
    )
    use_tta = right.toggle("Test-time augmentation", key="classify_tta")
    return chosen, use_tta


def render_verdict(verdict: Verdict, true_class: str | None, votes: MemberVotes) -> None:
    # Wide first column: a metric truncates its value ("Natural_…") when its column is narrow.
    columns = st.columns([3, 2, 3])
    columns[0].metric(f"Verdict ({short_name(verdict.predictor)})", verdict.class_name)
    columns[1].metric("Confidence", pct(verdict.confidence))
    if true_class is not None:
        # No arrow: right or wrong is not a change up or down.
        columns[2].metric(
            "True class",
            true_class,
            delta="verdict correct" if verdict.correct else "verdict wrong",
            delta_color="green" if verdict.correct else "red",
            delta_arrow="off",
        )
    st.markdown(f"**Member votes:** {plain(votes.describe())}")
    if votes.tied:
        st.warning(
            f"The members split {plain(votes.describe())}: no majority, so the verdict rests on the summed "
            "probabilities alone. Treat it as uncertain.",
            icon=":material/call_split:",
        )


def render_predictions(
    prediction: SequencePrediction,
    member_names: list[str],
    chosen: list[str],
    use_tta: bool,
    class_names: list[str],
    true_label: int | None,
) -> tuple[Verdict, pd.DataFrame]:
    """The verdict and the per-predictor table; returns both for the upload's downloads."""
    predictors = predictor_probabilities(
        prediction.probabilities, member_names, prediction.modes, members=chosen, tta=use_tta, per_mode=True
    )
    table = clip_table(predictors, class_names, true_label)
    verdict = clip_verdict(predictors, class_names, true_label)
    render_verdict(
        verdict,
        None if true_label is None else class_names[true_label],
        member_votes(predictors, chosen, class_names),
    )
    st.markdown("**Class probabilities per predictor**")
    st.plotly_chart(probability_bars(table, class_names), key="classify_bars")
    # Class columns first: at laptop widths the verdict columns may scroll, the classes never do.
    shown = table.assign(predictor=[short_name(p) for p in table["predictor"]])
    order = ["predictor", *class_names, "predicted", "confidence"]
    shown = shown[order if true_label is None else [*order, "correct"]]
    percent = st.column_config.NumberColumn(format=PERCENT_FORMAT)
    st.dataframe(
        shown,
        hide_index=True,
        key="classify_table",
        column_config={"confidence": percent, **dict.fromkeys(class_names, percent)},
    )
    if use_tta:
        render_unchanged_modes(prediction)
    return verdict, table


def _last_steps(count: int) -> str:
    return "The last step comes" if count == 1 else f"The last {count} steps come"


def render_attention(
    prediction: SequencePrediction,
    member_names: list[str],
    chosen: list[str],
    recipe: FeatureRecipe | None,
    strip: FrameStrip | None,
) -> None:
    steps = prediction.attention.shape[1]
    num_frames = recipe.num_frames if recipe else steps
    attention = chosen_attention(prediction.attention, member_names, chosen, num_frames)
    images = strip.images if strip else []
    positions = strip.positions if strip else []
    st.plotly_chart(attention_strip(attention.per_frame, chosen, images, positions))
    top = ", ".join(f"frame {frame} ({value:.1f}%)" for frame, value in top_frames(attention))
    st.markdown(f"Frames the chosen members relied on most: {top}.")
    if recipe is None:
        st.caption("The features file does not record its recipe, so steps are shown as they are stored.")
        return
    tail = (
        f" {_last_steps(steps - num_frames)} only from the longer scale (its resampled frames "
        f"averaged with zero padding) and hold {attention.tail_share.mean():.1f}% of the attention; "
        "they are not drawn."
        if steps > num_frames
        else ""
    )
    st.caption(
        f"The {steps}-step multi-scale sequence (scales {', '.join(map(str, recipe.scales))}) is mapped "
        f"to the {num_frames} decoded frames: step t is drawn at frame t, which it averages with the "
        f"frames the other scales pick at that position.{tail}"
    )


def restore_from_link(member_names: list[str]) -> None:
    """On a session's first run (a reload or a shared link), the source, members and TTA the URL
    names; the filters are restored by `restore_filters` once the split's choices are known."""
    state, params = st.session_state, st.query_params
    if "classify_source" not in state and params.get(SOURCE_PARAM) == UPLOAD_SOURCE:
        state["classify_source"] = UPLOAD
    url_state.restore_choices("classify_members", MEMBERS_PARAM, member_names)
    if "classify_tta" not in state and TTA_PARAM in params:
        state["classify_tta"] = params[TTA_PARAM] != "off"


def restore_filters(class_names: list[str], subcategories: list[str]) -> None:
    url_state.restore_text("classify_query", FILTER_PARAMS["classify_query"])
    url_state.restore_choices("classify_classes", FILTER_PARAMS["classify_classes"], class_names)
    url_state.restore_choices(
        "classify_subcategories", FILTER_PARAMS["classify_subcategories"], subcategories
    )
    url_state.restore_flag("classify_misclassified", FILTER_PARAMS["classify_misclassified"])
    url_state.restore_flag("classify_disagree", FILTER_PARAMS["classify_disagree"])


def write_filters() -> None:
    for key, param in FILTER_PARAMS.items():
        url_state.write_param(param, st.session_state.get(key))


def linked_video(split: SplitPredictions, options: list[int]) -> int:
    """The video a reloaded or shared link names (`?video=`), when the filters list it; else the first."""
    name = st.query_params.get(VIDEO_PARAM)
    index = split.video_names.index(name) if name in split.video_names else None
    return index if index in options else options[0]


def choose_test_video(split: SplitPredictions) -> int | None:
    table = split.video_table()
    all_subcategories = sorted(set(table["subcategory"]))
    restore_filters(split.class_names, all_subcategories)
    columns = st.columns([2, 2, 2, 1.3, 1.6])
    query = columns[0].text_input("Search by name", key="classify_query")
    classes = columns[1].multiselect("True class", split.class_names, key="classify_classes")
    subcategories = columns[2].multiselect("Subcategory", all_subcategories, key="classify_subcategories")
    wrong = columns[3].checkbox("Misclassified", key="classify_misclassified")
    disagree = columns[4].checkbox("Members disagree", key="classify_disagree")
    write_filters()
    matching = filter_video_table(
        table,
        query=query,
        true_classes=classes,
        subcategories=subcategories,
        misclassified_only=wrong,
        disagreement_only=disagree,
    )
    st.caption(f"{len(matching)} of {len(table)} videos match.")
    if matching.empty:
        st.info("No video matches these filters; clear some of them.")
        return None
    options = matching["index"].tolist()
    current = st.session_state.get("classify_index")
    if current not in options:
        current = st.session_state["classify_index"] = linked_video(split, options)
    if len(options) > MAX_PICKER_OPTIONS:
        # A select box of 100k entries is slow to send and useless to scroll: search narrows it.
        st.caption(f"The list shows the first {MAX_PICKER_OPTIONS}; search by name to find others.")
        first = options[:MAX_PICKER_OPTIONS]
        options = first if current in first else [current, *first]
    marks = dict(zip(matching["index"], matching["correct"], strict=True))
    return st.selectbox(
        "Video",
        options,
        format_func=lambda i: f"{split.video_names[i]}  {'✓' if marks[i] else '✗ misclassified'}",
        key="classify_index",
    )


def render_player(native: tuple[str | bytes, str] | None, prepare: Callable[[], bytes | None]) -> None:
    """The clip as it is when the browser plays its codec; otherwise a re-encode, made only on
    request since it takes seconds to a minute and the verdict must not wait for it."""
    if native is not None:
        st.video(native[0], format=native[1])
        return
    if not st.toggle(
        "Show player",
        key=PLAYER_KEY,
        help="This clip's codec needs re-encoding for the browser, which takes a while.",
    ):
        return
    webm = prepare()
    if webm is None:
        st.warning("This clip cannot be re-encoded for the browser's player; its frames are shown below.")
    else:
        st.video(webm, format="video/webm")


def test_video_path(context: DashboardContext, name: str) -> Path | None:
    split_name = context.analysed.split
    path = find_video_file(context.paths.data_dir, split_name, name)
    if path is None:
        looked = ", ".join(
            f"{code(p.relative_to(context.paths.root))}"
            for p in video_file_candidates(context.paths.data_dir, split_name, name)
        )
        st.info(f"The video file is not present (looked for {looked}); showing the attention without frames.")
    return path


def test_video_strip(path: Path | None, recipe: FeatureRecipe | None) -> FrameStrip | None:
    if path is None or recipe is None:
        return None
    strip = frame_strip(path, recipe.num_frames, recipe.image_size)
    if isinstance(strip, str):
        st.warning(f"The frames could not be decoded: {plain(strip)}")
        return None
    return strip


def render_test_video(context: DashboardContext, chosen: list[str], use_tta: bool) -> None:
    split = require_split(context)
    index = choose_test_video(split)
    if index is None:
        return
    name = split.video_names[index]
    st.query_params[VIDEO_PARAM] = name
    prediction = stored_clip_prediction(context.analysed.path, index, context.members.members)
    recipe = stored_clip_recipe(context.analysed.recipe, context.members.members)
    st.subheader(plain(name))
    render_predictions(
        prediction, context.member_names, chosen, use_tta, split.class_names, int(split.labels[index])
    )
    path = test_video_path(context, name)
    if path is not None:
        mime = native_mime_type(path)
        render_player(None if mime is None else (str(path), mime), lambda: playable_video(path))
    render_attention(prediction, context.member_names, chosen, recipe, test_video_strip(path, recipe))
    render_stored_clip_explanations(context, index, chosen, path)


def upload_recipe(context: DashboardContext) -> FeatureRecipe | None:
    try:
        recipe = resolve_classification_recipe(
            [m.recipe for m in context.members.members], context.analysed.recipe if context.analysed else None
        )
        check_recipe_fits_models(recipe, [m.config.feature_dim for m in context.members.members])
    except RecipeError as exc:
        st.error(f"Uploads cannot be classified faithfully: {plain(exc)}.")
        return None
    return recipe


def featurize_upload(name: str, data: bytes, digest: str, recipe: FeatureRecipe) -> FeaturizedClip | None:
    """Featurise once per distinct upload and recipe; later reruns reuse the session's result."""
    key = (digest, recipe.to_json())
    stored = st.session_state.get(UPLOAD_RESULT_KEY)
    if stored is not None and stored[0] == key:
        return stored[1]
    bar = st.progress(0.0, text=f"Decoding {recipe.num_frames} frames of {plain(name)}…")

    def report(fraction: float) -> None:
        bar.progress(
            min(fraction, 1.0), text=f"Featurising {plain(name)} with {recipe.backbone}: {fraction:.0%}"
        )

    try:
        ensure_backbone_weights(recipe.backbone, progress=download_reporter(bar, recipe.backbone))
        with upload_as_temp_file(data, name) as path:
            result = featurize_clip_with_frames(path, recipe, progress=report)
    except VideoDecodeError as exc:
        st.error(
            f"{plain(name)}: {plain(exc.problem)}. Upload a video file with at least a few seconds of frames."
        )
        return None
    except (UnsupportedUpload, RecipeError, BackboneError) as exc:
        st.error(plain(exc))
        return None
    finally:
        bar.empty()
    st.session_state[UPLOAD_RESULT_KEY] = (key, result)
    return result


def render_upload(context: DashboardContext, chosen: list[str], use_tta: bool, by_url: bool = False) -> None:
    recipe = upload_recipe(context)
    if recipe is None:
        return
    limit = st.get_option("server.maxUploadSize")
    # Any file is accepted here and checked by `core.video.uploads`: Streamlit's own type filter
    # rejects other files with an exception instead of a message the user can act on.
    uploaded = url_clip(limit) if by_url else st.file_uploader("Upload a clip", key="classify_upload")
    st.caption(
        f"Accepted: {', '.join(UPLOAD_TYPES)}; up to {limit} MB. The clip is featurised like the "
        f"checkpoints' training data: {recipe.backbone}, {recipe.num_frames} frames at "
        f"{recipe.image_size}px, scales {', '.join(map(str, recipe.scales))}."
    )
    if uploaded is None:
        # Load the backbone while the user picks a file, so the verdict does not wait for it.
        with contextlib.suppress(BackboneError):
            load_backbone(recipe.backbone)
        return
    name, data = uploaded if by_url else (uploaded.name, uploaded.getvalue())
    digest = hashlib.sha256(data).hexdigest()
    result = featurize_upload(name, data, digest, recipe)
    if result is None:
        return
    prediction = upload_prediction(digest, result.features, context.members.members)
    class_names = _class_names(context)
    st.subheader(plain(name))
    if demo_bundle_present(context.paths.root):
        st.caption(
            ":material/science: Demo ensemble (trained on generated clips): its verdict on a real video "
            "shows how the dashboard works, not what your classifier would say."
        )
    truth = st.selectbox(
        "What is it really?",
        [None, *class_names],
        format_func=lambda name: "not set" if name is None else name,
        key="classify_upload_truth",
        help="Set the clip's real class to see whether each predictor got it right.",
    )
    true_label = None if truth is None else class_names.index(truth)
    verdict, table = render_predictions(
        prediction, context.member_names, chosen, use_tta, class_names, true_label
    )
    render_downloads(name, verdict, table, class_names)
    mime = upload_mime_type(digest, name, data)
    render_player(None if mime is None else (data, mime), lambda: playable_upload(digest, name, data))
    render_attention(prediction, context.member_names, chosen, recipe, frame_strip_of(result.clip.frames))
    render_upload_explanations(context, digest, name, result, chosen, true_label, recipe)


def _class_names(context: DashboardContext) -> list[str]:
    return list(context.members.members[0].class_names)


def render_page(context: DashboardContext) -> None:
    st.title("Classify")
    if not context.members.members:
        st.error(
            f"No loadable checkpoints in {code(context.paths.models_dir)}; "
            "see the sidebar for what went wrong."
        )
        st.stop()
    accept_incoming_video(context.split)
    restore_from_link(context.member_names)
    source = st.radio("Classify", [TEST_VIDEO, UPLOAD, BY_URL], horizontal=True, key="classify_source")
    chosen, use_tta = choose_members(context)
    st.query_params[MEMBERS_PARAM] = chosen
    st.query_params[TTA_PARAM] = "on" if use_tta else "off"
    url_state.write_param(SOURCE_PARAM, UPLOAD_SOURCE if source == UPLOAD else None)
    if not chosen:
        st.warning("Choose at least one ensemble member.")
        st.stop()
    if source == TEST_VIDEO:
        render_test_video(context, chosen, use_tta)
    else:
        render_upload(context, chosen, use_tta, by_url=source == BY_URL)
