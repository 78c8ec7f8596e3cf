"""Whole numbers and messy pages: digits found as components, read left to right, on real
MNIST test digits composed the way people write (train/realistic_numbers.py)."""

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tegaki.runtime import DigitReader, ImageError, Reading, preprocessing, reading_record, segment
from tegaki.train.realistic_numbers import _paper as realistic_paper
from tegaki.train.realistic_numbers import hard_pages, marker_row, numbers, page, photo, shadow

from commands import run_command


@pytest.fixture(scope="module")
def reader():
    return DigitReader()


@pytest.fixture(scope="module")
def composed(mnist):
    return numbers(mnist.x_test, mnist.y_test, count=150, seed=7)


@pytest.fixture(scope="module")
def composed_readings(reader, composed):
    return reader.read_all([item.data for item in composed])


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def share_read(readings, labels) -> float:
    """The share of readings whose number is the label (an ImageError reads nothing)."""
    return float(np.mean([getattr(r, "number", None) == str(label) for r, label in zip(readings, labels)]))


def paper(width: int = 300, height: int = 200) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (width, height), 230)
    return image, ImageDraw.Draw(image)


def test_composed_numbers_read_whole(composed, composed_readings):
    """2-8 digits with spacing, jitter, slant, touching pairs; half with an underline, a box,
    ruled lines or a speck. Measured here: 91 % exact, 85 % of those with clutter (on 1,000
    numbers: 93 % and 94 %, docs/numbers.md); the first retrained model read 93 % and 88 %."""
    exact = [isinstance(r, Reading) and r.number == item.label for item, r in zip(composed, composed_readings)]
    cluttered = [ok for ok, item in zip(exact, composed) if item.clutter]
    misread = [
        (item.label, getattr(r, "number", str(r))) for item, r, ok in zip(composed, composed_readings, exact) if not ok
    ]
    assert np.mean(exact) >= 0.86, misread
    assert np.mean(cluttered) >= 0.8 and len(cluttered) >= 50, misread
    found = [len(r.number) == len(item.label) for item, r in zip(composed, composed_readings) if isinstance(r, Reading)]
    assert np.mean(found) >= 0.95  # the right number of digits: segmentation, not the model


def test_boxes_lie_inside_the_image_in_reading_order(composed, composed_readings):
    for item, reading in zip(composed, composed_readings):
        width, height = Image.open(io.BytesIO(item.data)).size
        boxes = [d.box for d in reading.digits]
        assert all(0 <= left < right <= width and 0 <= top < bottom <= height for left, top, right, bottom in boxes)
        centres = [(left + right) / 2 for left, _, right, _ in boxes]
        assert centres == sorted(centres), item.name


def test_hard_pages_read_their_one_digit(reader, mnist):
    """A small digit on a vignetted page, a sheet on a desk, lined paper, a hard shadow, a speck:
    one bounding box of all ink reads about half of these wrong. Measured: 100 %, one box 44 %."""
    pages = hard_pages(mnist.x_test, mnist.y_test, count=50, seed=3)
    readings = reader.read_all([item.data for item in pages])
    accuracy = share_read(readings, [item.label for item in pages])
    single = np.mean([reader.read(item.data).digit == int(item.label) for item in pages])
    assert accuracy >= 0.96 and accuracy > single + 0.1, (accuracy, single)


def test_only_a_speck_a_line_or_an_empty_box_is_no_digit(reader):
    speck, draw = paper()
    draw.ellipse((140, 90, 146, 96), fill=30)
    line, draw = paper()
    draw.line((20, 150, 280, 150), fill=30, width=4)
    wide_box, draw = paper()
    draw.rectangle((50, 40, 250, 160), outline=30, width=3)  # its sides read "11" once
    square_box, draw = paper(200, 200)
    draw.rectangle((30, 30, 170, 170), outline=30, width=4)  # ... and "0"
    for image in (speck, line, wide_box, square_box):
        with pytest.raises(ImageError, match="no digit found"):
            reader.read_number(png(image))


def test_noise_is_rarely_read_as_a_digit(reader):
    """Patches of pure noise: clusters of one size, of which only one that stands out from the
    others may be a digit, and only if it rises above the grain around it. Measured: none of
    these 60 patches holds a readable digit (5 before the grain test, 20 before either)."""
    readable = 0
    for seed in range(20):
        for side in (32, 64, 128):
            noise = Image.fromarray(np.random.default_rng(seed).integers(0, 256, (side, side), dtype=np.uint8))
            result = reader.read_all([noise])[0]
            readable += isinstance(result, Reading) and any(d.readable for d in result.digits)
    assert readable <= 1, readable


def shaded(height: int, width: int, kind: str, grain: float) -> Image.Image:
    """A blank image of smooth light: a gradient across it, or light falling off from (or
    towards) its centre, as uneven light or a lens's vignette leaves on a photo."""
    rng = np.random.default_rng(height + width)
    rows, cols = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    centre = np.hypot(rows - 0.5, cols - 0.5) / np.hypot(0.5, 0.5)
    light = {"across": cols, "back": 1 - cols, "diagonal": (rows + cols) / 2, "vignette": 1 - centre, "spot": centre}
    pixels = light[kind] + rng.normal(0, grain, (height, width))
    return Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))


def test_smooth_light_is_no_digit(reader):
    """The background step follows slow light but cuts a gradient short at the border, where
    the light keeps changing: that residue, or grain clumped on it, read "1" (11 of these
    30 read a digit before a group had to rise above the plane of the paper around it)."""
    read = []
    for height, width in ((64, 64), (200, 300), (1500, 2000)):
        for kind in ("across", "back", "diagonal", "vignette", "spot"):
            for grain in (0.0, 0.03):
                result = reader.read_all([png(shaded(height, width, kind, grain))])[0]
                if isinstance(result, Reading) and any(d.readable for d in result.digits):
                    read.append((height, width, kind, grain, result.number))
    assert not read, read


def harshly_lit(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """A digit on paper in steep, uneven light with a strong vignette, grain and ink from
    black to faint, often near the border: what shading's plane must not take for residue."""
    height, width = (900, 1200) if rng.random() < 0.5 else (300, 400)
    side = int(rng.uniform(0.12, 0.3) * height)
    top = int(rng.choice([0.02 * height, height - side - 0.02 * height, rng.uniform(0, height - side)]))
    left = int(rng.choice([0.02 * width, width - side - 0.02 * width, rng.uniform(0, width - side)]))
    rows, cols = np.mgrid[0:height, 0:width] / width - np.array([height / width / 2, 0.5])[:, None, None]
    angle = rng.uniform(0, 2 * np.pi)
    paper = rng.uniform(0.6, 0.9) + rng.uniform(0.3, 0.7) * (np.cos(angle) * cols + np.sin(angle) * rows)
    paper -= rng.uniform(0.1, 0.5) * (rows**2 + cols**2) * 2
    ink = np.zeros((height, width))
    ink[top : top + side, left : left + side] = np.asarray(Image.fromarray(digit).resize((side, side))) / 255
    pixels = paper * (1 - ink) + rng.uniform(0.05, 0.5) * ink + rng.normal(0, rng.uniform(0.005, 0.04), ink.shape)
    return png(Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)))


def test_shading_takes_no_digit_on_harshly_lit_paper(reader, mnist, monkeypatch):
    """Inside the image a digit on steeply lit paper rises above the paper's plane by less
    than the light changes across it; only at the border is that a sign of residue. These
    pages are hard (about 60 % read right either way), but the shading test must not cost a
    digit that reads right without it. Measured: 39 of 60 right with it, 37 without; 34 when
    the plane's change was asked everywhere."""
    rng = np.random.default_rng(11)
    pages = [harshly_lit(digit, rng) for digit in mnist.x_test[:60]]
    right = share_read(reader.read_all(pages), mnist.y_test[:60])
    monkeypatch.setattr(segment, "shading", lambda gray, ink, group: False)
    without = share_read(reader.read_all(pages), mnist.y_test[:60])
    assert right >= without - 1 / 60, (right, without)


def beside_a_blot(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A digit on the left of a page and an ink blot (or a blurred smudge) on the right, as
    big as the digit or bigger, higher or lower than it."""
    page = Image.new("L", (1200, 900), 215)
    side = int(rng.uniform(110, 270))
    top, left = int(rng.uniform(90, 810 - side)), int(rng.uniform(120, 600 - side // 2))
    page.paste(Image.fromarray(255 - digit).resize((side, side)).point(lambda v: 20 + v * 195 // 255), (left, top))
    blot = Image.new("L", page.size, 0)
    x, y, radius = int(rng.uniform(720, 1080)), int(rng.uniform(180, 720)), int(rng.uniform(0.3, 0.75) * side)
    ImageDraw.Draw(blot).ellipse((x - radius, y - 0.7 * radius, x + radius, y + 0.7 * radius), fill=200)
    return Image.composite(Image.new("L", page.size, 30), page, blot)


def test_a_blot_beside_a_digit_does_not_take_its_place(reader, mnist):
    """The reference digit, which sets the line that digits are read along, was the heaviest
    ink: a blot, so the digit beside it was off that line and lost ("1?": the blot cut in
    two). It is now the heaviest ink that is no blot, and a blot is never cut. Measured:
    the digit read first in 19 of these 20 (7 before, by a blot's slice read as 1), and
    alone in 16: where the blot shares the digit's line it is a "?" after it."""
    rng = np.random.default_rng(2)
    readings = reader.read_all([png(beside_a_blot(digit, rng)) for digit in mnist.x_test[:20]])
    first = [getattr(r, "number", "-")[:1] for r in readings]
    assert np.mean([got == str(label) for got, label in zip(first, mnist.y_test[:20])]) >= 0.85, first


def touching_the_border(digit: np.ndarray, slope: float, contrast: int, edge: str) -> Image.Image:
    """A digit drawn `contrast` levels darker than paper that darkens by `slope` levels a row
    (a desk lamp's light), cut tight and touching one `edge` of a 320x240 image."""
    ink = np.asarray(Image.fromarray(digit).resize((112, 112), Image.Resampling.BICUBIC)) / 255
    rows, cols = np.nonzero(ink > 0.1)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    paper = 235 - slope * np.mgrid[0:240, 0:320][0].astype(float)
    top = {"top": 0, "bottom": 240 - ink.shape[0], "left": 80, "right": 80}[edge]
    left = {"top": 120, "bottom": 120, "left": 0, "right": 320 - ink.shape[1]}[edge]
    paper[top : top + ink.shape[0], left : left + ink.shape[1]] -= contrast * ink
    return Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))


def test_a_digit_touching_the_border_of_lit_paper_is_read(reader, mnist):
    """Light's residue lies along the border, so there a group must rise above the paper's
    plane by twice the plane's change; a digit that only touches the border with a stroke is
    not asked (an independent check found pencil digits lost: the fitting window is twice
    the digit, the light changed across it as much as the pencil's contrast). Measured: 9
    of these 160 wrong; 18 when every group touching the border was asked, 14 before the
    shading test."""
    images, labels = [], []
    for digit, label in zip(mnist.x_test[:10], mnist.y_test[:10]):
        for slope in (0.2, 0.3):
            for contrast in (40, 70):
                for edge in ("top", "bottom", "left", "right"):
                    images.append(png(touching_the_border(digit, slope, contrast, edge)))
                    labels.append(str(label))
    readings = reader.read_all(images)
    wrong = [
        (label, getattr(r, "number", "-")) for r, label in zip(readings, labels) if getattr(r, "number", "-") != label
    ]
    assert len(wrong) <= 12, wrong


def test_a_dot_screen_is_no_digit(reader):
    """Thousands of even specks (a halftone, sensor noise) are all kept as components: the
    steps that compare them pairwise look only at the largest MAX_PARTS (it took 70 s)."""
    screen = np.full((256, 256), 255, np.uint8)
    screen[1::3, 1::3] = 0
    with pytest.raises(ImageError, match="no digit found"):
        reader.read_number(png(Image.fromarray(screen)))


def test_a_small_digit_on_a_phone_sized_page_is_found(reader, mnist):
    """A 112 px digit on a 2000x1500 page is under 0.1 % of the working image's pixels: the
    ink's peak is its own strongest pixels, not the 99.9th percentile (paper). 1 of 10 read
    before; 10 of 10 now."""
    read = 0
    for k in range(10):
        page = np.full((1500, 2000), 235, np.uint8)
        digit = np.asarray(Image.fromarray(255 - mnist.x_test[k]).resize((112, 112), Image.Resampling.BILINEAR))
        top, left = 600 + 20 * k, 400 + 100 * k
        page[top : top + 112, left : left + 112] = np.minimum(235, digit.astype(np.uint16) * 235 // 255 + 20)
        reading = reader.read_all([Image.fromarray(page)])[0]
        read += getattr(reading, "number", None) == str(mnist.y_test[k])
    assert read >= 9, read


def scribble(seed: int) -> Image.Image:
    """A tangled pen scribble, about as wide as tall: loops over loops, like a scrawled letter."""
    rng = np.random.default_rng(seed)
    image, draw = paper(200, 200)
    t = np.linspace(0, 2 * np.pi, 600)
    x = sum(rng.uniform(10, 25) * np.cos(k * t + rng.uniform(0, 6)) for k in (1, 3, 5, 7))
    y = sum(rng.uniform(10, 25) * np.sin(k * t + rng.uniform(0, 6)) for k in (1, 2, 5, 7))
    draw.line(list(zip(100 + x, 100 + y)), fill=20, width=4)
    return image


def test_scribbles_and_noise_are_unreadable_not_confident_digits(reader):
    """The one-digit reading answers these with a confident digit; the number reader says "?"
    (pure noise: "no digit found", since its clumps stand no higher than its grain)."""
    for image in [scribble(seed) for seed in range(5)]:
        reading = reader.read_number(png(image))
        assert set(reading.number) == {"?"} and reading.unsure(), reading.number
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8))
    with pytest.raises(ImageError, match="no digit found"):
        reader.read_number(png(noise))


def test_single_keeps_the_one_digit_reading(reader, mnist):
    sources = [png(Image.fromarray(255 - np.kron(mnist.x_test[i], np.ones((4, 4), np.uint8)))) for i in range(10)]
    singles = reader.read_all(sources, single=True)
    assert [r.digits[0].digit for r in singles] == [p.digit for p in reader.read_many(sources)]
    assert [r.number for r in reader.read_all(sources)] == [str(mnist.y_test[i]) for i in range(10)]


def test_read_all_returns_an_error_per_bad_input(reader, composed):
    results = reader.read_all([composed[0].data, b"not an image", png(paper()[0])])
    assert isinstance(results[0], Reading) and results[0].number == composed[0].label
    assert isinstance(results[1], ImageError) and "not an image" in str(results[1])
    assert isinstance(results[2], ImageError) and "no digit found" in str(results[2])


def test_max_digits_keeps_the_tallest(reader, composed):
    item = next(item for item in composed if len(item.label) >= 5)
    reading = reader.read_number(item.data, max_digits=3)
    assert len(reading.digits) == 3
    assert reading.number == "".join(
        item.label[i]
        for i in sorted(
            np.argsort([-(d.box[3] - d.box[1]) for d in reader.read_number(item.data).digits], kind="stable")[:3]
        )
    )


def test_record_keeps_digit_for_one_digit_and_lists_digits(reader, composed):
    item = next(item for item in composed if len(item.label) >= 3)
    record = reading_record(reader.read_number(item.data), top_k=2, threshold=1.0, path="x.png")
    assert list(record)[:2] == ["path", "number"] and "digit" not in record and record["unsure"] is True
    assert [d["digit"] for d in record["digits"]] == [int(c) for c in item.label]
    assert all(len(d["box"]) == 4 and len(d["top_k"]) == 2 for d in record["digits"])
    json.dumps(record)


def test_edge_predict_prints_the_number_and_saves_annotated_copy(composed, tmp_path):
    item = next(item for item in composed if len(item.label) >= 4 and item.name.endswith(".png"))
    path = tmp_path / "meter.png"
    path.write_bytes(item.data)
    text = run_command("edge-predict", str(path), "--save-input", str(tmp_path / "seen"))
    assert text.returncode == 0 and text.stdout.decode().split("\t")[:2] == [str(path), item.label]
    with (
        Image.open(tmp_path / "seen" / "meter-boxes.png") as boxes,
        Image.open(tmp_path / "seen" / "meter.png") as frames,
    ):
        assert boxes.size == Image.open(path).size and boxes.mode == "RGB"
        assert frames.size == (28 * len(item.label), 28)
    record = json.loads(run_command("edge-predict", "--json", "--max-digits", "2", str(path)).stdout)
    assert len(record["number"]) == 2 and len(record["digits"]) == 2
    single = json.loads(run_command("edge-predict", "--json", "--single", str(path)).stdout)
    assert len(single["digits"]) == 1 and isinstance(single["digit"], int)


def test_a_piece_of_a_desk_or_shadow_edge_is_not_a_digit():
    """Paper on one side, the desk (or a shadow) on the other: an edge, not a 1 beside the digit."""
    from tegaki.runtime.segment import Component, on_an_edge

    gray = np.full((120, 200), 0.8, np.float32)
    gray[:, 120:] = 0.3  # the desk, darker than the sheet
    ink = np.zeros_like(gray)
    ink[30:70, 60:64] = 1.0  # a 1 written on the sheet
    ink[30:70, 116:122] = 1.0  # what the background step left along the sheet's edge
    one = Component((60, 30, 64, 70), np.ones((40, 4), bool))
    edge = Component((116, 30, 122, 70), np.ones((40, 6), bool))
    assert on_an_edge(gray, ink, edge) and not on_an_edge(gray, ink, one)
    ink[:, 122:] = 1.0  # the desk itself taken for ink: one side all "ink", the other paper
    assert on_an_edge(gray, ink, edge) and not on_an_edge(gray, ink, one)


def on_paper(digits: list[np.ndarray], scale: int = 4, gap: int = 40) -> np.ndarray:
    """MNIST digits written side by side on a 230-grey page, `scale` times their size: uint8."""
    page = np.full((28 * scale + 2 * gap, len(digits) * (28 * scale + gap) + gap), 230, np.uint8)
    for i, digit in enumerate(digits):
        x = gap + i * (28 * scale + gap)
        page[gap : gap + 28 * scale, x : x + 28 * scale] -= (np.kron(digit, np.ones((scale, scale))) * 0.8).astype(
            np.uint8
        )
    return page


def first_of(mnist, digit: int, count: int = 5) -> np.ndarray:
    return mnist.x_test[mnist.y_test == digit][:count]


def sized_row(digits: list[np.ndarray], scales: list[int], bold: list[int]) -> Image.Image:
    """MNIST digits side by side on one baseline, each `scales[i]` times its size and
    thickened by a `bold[i]` px square (0: as written)."""
    page = np.full((200, 60 + sum(28 * s + 30 for s in scales)), 230.0)
    left = 30
    for digit, scale, width in zip(digits, scales, bold):
        image = Image.fromarray(np.kron(digit, np.ones((scale, scale), np.uint8)))
        if width:
            image = image.filter(ImageFilter.MaxFilter(width))
        side, top = 28 * scale, 190 - 28 * scale
        page[top : top + side, left : left + side] -= 200 * np.asarray(image, np.float32) / 255
        left += side + 30
    return Image.fromarray(page.clip(0, 255).astype(np.uint8))


def test_a_digit_far_taller_than_a_bold_short_one_is_kept(reader, mnist):
    """The reference digit is the heaviest ink: a short bold digit. A neighbour 1.7 times
    as tall (5/3) was "too tall for a digit" and dropped without a `?`. It is kept when it
    is no taller than 1.5 times the tallest digit-sized part on the line (here 4/3 of the
    reference). Measured: 83 of these 100 before, 93 now."""
    rng = np.random.default_rng(0)
    rows, labels = [], []
    for _ in range(100):
        chosen = rng.choice(len(mnist.x_test), 3, replace=False)
        rows.append(sized_row(list(mnist.x_test[chosen]), [3, 5, 4], [7, 0, 0]))
        labels.append("".join(str(d) for d in mnist.y_test[chosen]))
    readings = reader.read_all(rows)
    assert share_read(readings, labels) >= 0.9, [getattr(r, "number", r) for r in readings]


def test_a_tall_1_beside_a_short_bold_digit_is_no_ruled_line(reader, mnist):
    """A 1 1.5 to 2 times as tall as the short bold reference digit has a straight stem
    longer than LONG_RUN_V reference heights: it was stripped as a ruled line ("20" for
    210), and a tall digit beside a short reference, sharing less than half its own height
    with it, was off the line. Measured: 28 of these 40 before, 36 now."""
    rng = np.random.default_rng(1)
    ones = np.flatnonzero(mnist.y_test == 1)
    rows, labels = [], []
    for _ in range(40):
        first, last = rng.choice(len(mnist.x_test), 2, replace=False)
        one = rng.choice(ones)
        rows.append(sized_row(list(mnist.x_test[[first, one, last]]), [3, 5, 4], [7, 0, 0]))
        labels.append(f"{mnist.y_test[first]}1{mnist.y_test[last]}")
    readings = reader.read_all(rows)
    assert share_read(readings, labels) >= 0.85, [getattr(r, "number", r) for r in readings]


def uphill(digits: list[np.ndarray], degrees: float, scale: int = 3) -> Image.Image:
    """MNIST digits side by side on a 230-grey page along a baseline rising at `degrees`."""
    side, pitch = 28 * scale, 28 * scale + 10
    rise = pitch * np.tan(np.radians(degrees))
    page = np.full((int(side + abs(rise) * (len(digits) - 1)) + 80, pitch * len(digits) + 70), 230.0)
    for i, digit in enumerate(digits):
        top = 40 + int(abs(rise) * (len(digits) - 1) - rise * i if rise > 0 else -rise * i)
        left = 35 + i * pitch
        page[top : top + side, left : left + side] -= 0.8 * np.kron(digit, np.ones((scale, scale)))
    return Image.fromarray(page.astype(np.uint8))


def test_a_number_written_uphill_is_read_whole(reader, mnist):
    """Only digits sharing half their rows with the reference digit were on its line: a
    number rising or falling 10-15 degrees lost one or two ("43" for 4364). The line is
    followed from digit to digit now. Measured: 4 of these 40 before, 31 now."""
    rng = np.random.default_rng(0)
    rows, labels = [], []
    for k in range(40):
        chosen = rng.choice(len(mnist.x_test), 4, replace=False)
        rows.append(uphill(list(mnist.x_test[chosen]), [-15, -10, 10, 15][k % 4]))
        labels.append("".join(str(d) for d in mnist.y_test[chosen]))
    readings = reader.read_all(rows)
    assert share_read(readings, labels) >= 0.7, [getattr(r, "number", r) for r in readings]


def circled(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """An MNIST digit on a 230-grey page with a ring drawn around it, 1.4 to 1.5 times as tall
    as its ink (60 px) and clear of it."""
    page = Image.fromarray(on_paper([digit], scale=3, gap=40))
    radius = int(rng.integers(42, 46))
    centre_x, centre_y = page.width // 2, page.height // 2
    ring = (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius)
    ImageDraw.Draw(page).ellipse(ring, outline=int(rng.integers(20, 90)), width=int(rng.integers(2, 5)))
    return page


def test_a_ring_drawn_around_a_digit_is_no_part_of_it(reader, mnist):
    """A circled digit: the ring encloses the digit, is no taller than a digit may be and
    has no straight side to strip, so it stayed, took the digit in as one of its parts and
    read "0". Thin ink around a digit that is no box is a ring drawn round it. Measured: 8
    of these 30 before, 23 now (a wide digit's corner touches the ring)."""
    rng = np.random.default_rng(0)
    images = [circled(image, rng) for image in mnist.x_test[:30]]
    readings = reader.read_all(images)
    assert share_read(readings, mnist.y_test[:30]) >= 0.7, [getattr(r, "number", r) for r in readings]


def test_pinholes_in_a_thick_stroke_are_not_loops(reader, mnist):
    """A marker's 8 or 0 whose strokes have pinholes (bad ink, a rough scan) is still a digit;
    only a scribble's many real loops, or noise's many pinholes, make a group unreadable."""
    rng = np.random.default_rng(0)
    for digit in (0, 8):
        for image in first_of(mnist, digit):
            thick = np.asarray(Image.fromarray(image).filter(ImageFilter.MaxFilter(3)))
            page = on_paper([thick])
            rows, cols = np.nonzero(page < 80)
            picked = rng.choice(len(rows), 6, replace=False)
            page[rows[picked], cols[picked]] = 230  # single-pixel holes in the ink
            reading = reader.read_number(png(Image.fromarray(page)))
            assert reading.number == str(digit), (digit, reading.number, reading.confidence)


def grainy_photo(digit: np.ndarray, seed: int) -> Image.Image:
    """A bold digit photographed on unevenly lit paper with a noisy sensor (grain 12-15 levels)."""
    rng = np.random.default_rng(seed)
    height = int(rng.integers(80, 120))
    bold = ImageFilter.MaxFilter(int(rng.choice([3, 5, 7])))
    ink = Image.fromarray(digit).resize((height, height), Image.Resampling.BILINEAR).filter(bold)
    side = int(height * rng.uniform(1.6, 2.4))
    strength = np.zeros((side, side), np.float32)
    y, x = rng.integers(0, side - height, 2)
    strength[y : y + height, x : x + height] = np.asarray(ink, np.float32) / 255
    rows, cols = np.mgrid[0:side, 0:side] / side
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 - rng.uniform(0.3, 0.5) * (np.cos(angle) * cols + np.sin(angle) * rows + 1) / 2
    pixels = (rng.uniform(180, 240) * (1 - strength) + 30 * strength) * light
    return Image.fromarray(np.clip(pixels + rng.normal(0, rng.uniform(12, 15), (side, side)), 0, 255).astype(np.uint8))


def test_a_bold_digit_in_a_grainy_photo_is_read(reader, mnist):
    """Grain pricks a bold stroke with dozens of pinholes a pixel or two across; they once
    counted as a noise patch's holes and the digit was reported `?` however sure the model
    was. Measured on these 60: 49 read right before (11 `?`), 60 now."""
    chosen = np.arange(6000, 6060)
    readings = reader.read_all([grainy_photo(mnist.x_test[i], int(i)) for i in chosen])
    assert share_read(readings, mnist.y_test[chosen]) >= 0.93


def under_a_spot_light(digit: np.ndarray, seed: int, paper: float, pen: float) -> Image.Image:
    """A digit on paper (or a board) lit by a spot whose light falls off to under half."""
    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(160, 320, 2))
    side = int(min(height, width) * rng.uniform(0.3, 0.5))
    strength = np.zeros((height, width), np.float32)
    y, x = int(rng.integers(0, height - side)), int(rng.integers(0, width - side))
    ink = Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    strength[y : y + side, x : x + side] = np.asarray(ink, np.float32) / 255
    rows, cols = np.mgrid[0:height, 0:width]
    distance = np.hypot(rows / height - rng.uniform(0.2, 0.8), cols / width - rng.uniform(0.2, 0.8))
    light = 0.45 + 0.55 * np.exp(-((distance / rng.uniform(0.2, 0.4)) ** 2))
    pixels = (paper * (1 - strength) + pen * strength) * light + rng.normal(0, 3, (height, width))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def test_a_digit_under_a_spot_light_keeps_its_polarity(reader, mnist):
    """A spot's fall-off darkens most of the page: the image's median is then nearer its dark
    end, and dark ink was taken for light (no digit found). Block by block the paper is
    still the light side. Measured on these 60: dark ink 27 read right before, 54 now;
    light ink on a dark board 60 before and now."""
    chosen = np.arange(6100, 6160)
    dark_ink = reader.read_all([under_a_spot_light(mnist.x_test[i], int(i), 220, 25) for i in chosen])
    light_ink = reader.read_all([under_a_spot_light(mnist.x_test[i], int(i), 55, 230) for i in chosen])
    assert share_read(dark_ink, mnist.y_test[chosen]) >= 0.85
    assert share_read(light_ink, mnist.y_test[chosen]) >= 0.95


def test_a_dot_below_a_digit_is_a_speck_not_part_of_it(reader, mnist):
    for digit in (2, 6, 7):
        for image in first_of(mnist, digit, 3):
            page = on_paper([image])
            reading_alone = reader.read_number(png(Image.fromarray(page)))
            y = 40 + 28 * 4 + 10  # just under the digit, closer than a 5's cap to its body
            image_with_dot = Image.fromarray(page)
            ImageDraw.Draw(image_with_dot).ellipse((90, y, 100, y + 10), fill=40)
            reading = reader.read_number(png(image_with_dot))
            assert reading.number == str(digit) and reading.digits[0].box == reading_alone.digits[0].box


def broken_across(digit: np.ndarray, angle: float, offset: float) -> np.ndarray:
    """The digit with a pale gap 1.2 px wide across it (a pen that skipped), at `angle` from
    the horizontal and `offset` px from its centre of ink."""
    rows, cols = np.mgrid[0:28, 0:28].astype(float)
    weight = digit.astype(float)
    cy, cx = (weight * rows).sum() / weight.sum(), (weight * cols).sum() / weight.sum()
    across = (cols - cx) * np.sin(angle) - (rows - cy) * np.cos(angle) - offset
    return np.where(np.abs(across) < 0.6, 0, digit).astype(np.uint8)


def test_a_digit_broken_by_a_skipping_pen_is_one_digit(reader, mnist):
    """Pieces side by side (a 6's stem beside its loop, a 4's arm beside its stem) are one
    digit when the model reads a digit neither piece reads, surer than either: of these 300
    rows, 23 read a digit too many before `join_broken`, 12 with it (268 right, 258 before)."""
    rng = np.random.default_rng(0)
    pages, labels = [], []
    for i in range(300):
        left, right = rng.integers(len(mnist.x_test), size=2)
        angle = rng.uniform(0.3, 1.3) * rng.choice([-1, 1])  # 17-75 degrees off the horizontal
        middle = broken_across(mnist.x_test[i], angle, rng.uniform(-3, 3))
        pages.append(png(Image.fromarray(on_paper([mnist.x_test[left], middle, mnist.x_test[right]]))))
        labels.append(f"{mnist.y_test[left]}{mnist.y_test[i]}{mnist.y_test[right]}")
    readings = reader.read_all(pages)
    too_long = sum(len(getattr(r, "number", "")) > 3 for r in readings)
    assert too_long <= 17 and share_read(readings, labels) >= 0.875, (too_long, share_read(readings, labels))


def test_a_slanted_1_broken_corner_to_corner_is_one_digit(reader, mnist):
    """A 1 leaning 27-39 degrees and broken across the middle: its halves are each too small
    for a digit and lie corner to corner, not above one another. Of these 120 rows, 35 lost
    the 1 (or gave it to a neighbour) before `_halves_joined` and `join_broken`, 8 with them
    (107 right, 74 before)."""
    rng = np.random.default_rng(0)
    pages, labels = [], []
    for one in first_of(mnist, 1, 120):
        slant = rng.uniform(0.5, 0.8)  # x_in = x_out + slant * (y_out - 14): the top leans right
        leaning = Image.fromarray(one).transform(
            (28, 28), Image.Transform.AFFINE, (1, slant, -14 * slant, 0, 1, 0), Image.Resampling.BILINEAR
        )
        middle = broken_across(np.asarray(leaning), 0.0, rng.uniform(-1, 1))
        left, right = rng.integers(len(mnist.x_test), size=2)
        pages.append(png(Image.fromarray(on_paper([mnist.x_test[left], middle, mnist.x_test[right]]))))
        labels.append(f"{mnist.y_test[left]}1{mnist.y_test[right]}")
    readings = reader.read_all(pages)
    too_short = sum(len(getattr(r, "number", "")) < 3 for r in readings)
    assert too_short <= 16 and share_read(readings, labels) >= 0.8, (too_short, share_read(readings, labels))


def test_what_is_left_of_a_faint_ruled_line_beside_digits_does_not_join_them(reader, mnist):
    """A faint ruled line across a number is stripped with the digits it touches; where the
    paper's light lets only a stub of it either side of a digit pass for ink, the stubs
    (half as dark as the pen) joined the digit, widening its frame. Measured on these 40:
    boxes right for 2 before, 40 now; numbers read 33 before, 40 now."""
    rng = np.random.default_rng(0)
    scale, gap = 3, 40
    right_boxes = right_numbers = 0
    for k in range(40):
        chosen = 5000 + 3 * k + np.arange(3)
        page = np.full((28 * scale + 2 * gap, 3 * (28 * scale + gap) + gap), 230, np.float32)
        inked = []
        for i, digit in enumerate(mnist.x_test[chosen]):
            x = gap + i * (28 * scale + gap)
            page[gap : gap + 28 * scale, x : x + 28 * scale] -= np.kron(digit, np.ones((scale, scale))) * 0.8
            rows, cols = np.nonzero(digit)
            inked.append((x + scale * cols.min(), x + scale * (cols.max() + 1), gap + scale * (rows.max() + 1)))
        for left, right, bottom in inked:
            row = bottom - scale * int(rng.integers(1, 4))
            for start in (left - 6 * scale, right + 2 * scale):
                page[row : row + 2, start : start + 4 * scale] *= 0.56
        reading = reader.read_number(png(Image.fromarray(page.astype(np.uint8))))
        right_numbers += reading.number == "".join(str(d) for d in mnist.y_test[chosen])
        right_boxes += len(reading.digits) == 3 and all(
            left - scale <= d.box[0] and d.box[2] <= right + scale for d, (left, right, _) in zip(reading.digits, inked)
        )
    assert right_boxes >= 38 and right_numbers >= 38, (right_boxes, right_numbers)


def test_a_shadow_across_a_corner_is_not_read_as_a_digit(reader, mnist):
    """A hard shadow across a corner leaves a piece of middling grey "ink" at the page's edge,
    as tall as a digit, with nothing beyond it to compare; a pen's strokes are dark at their
    core. Measured on these 100 pages: 99 % (94 % before strokes were compared)."""
    rng = np.random.default_rng(5)
    pages = [(shadow(image, rng)[1][1], str(label)) for image, label in zip(mnist.x_test[:100], mnist.y_test[:100])]
    readings = reader.read_all([data for data, _ in pages])
    accuracy = share_read(readings, [label for _, label in pages])
    assert accuracy >= 0.97, accuracy


def test_a_sheet_on_a_desk_that_fills_less_than_half_the_photo(reader, mnist):
    """Most of the photo is the desk, so the image's median is the desk's level, not the
    paper's: the ink is still the dark digit on the sheet, not the sheet around it. Measured:
    95 %; 15 % when the median alone decided (the sheet's outline read "0")."""
    rng = np.random.default_rng(3)
    pages = []
    for image in mnist.x_test[:20]:
        photo = rng.normal(70, 6, (300, 480))  # a dark, grainy desk
        photo[20:280, 290:470] = rng.normal(220, 4, (260, 180))  # the sheet: 33 % of the photo
        photo[90:202, 324:436] -= np.kron(image, np.ones((4, 4))) * 0.75  # the digit on it, 112 px tall
        pages.append(png(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8))))
    readings = reader.read_all(pages)
    assert share_read(readings, mnist.y_test[:20]) >= 0.9, [getattr(r, "number", r) for r in readings]


def note_on_desk(digits: list[np.ndarray], rng: np.random.Generator, shade: bool) -> Image.Image:
    """A light sticky note, turned a little, with a number on it, lying on a dark grainy desk
    that fills most of the photo, its shadow beneath it; with `shade`, a soft shadow (a hand,
    a phone) across the photo from one side, over part of the note."""
    scale, width = 2, len(digits) * 56 + 60
    note = np.full((width, width), float(rng.uniform(200, 235)))
    for i, digit in enumerate(digits):
        top, left = (width - 56) // 2, 30 + i * 56
        note[top : top + 56, left : left + 56] -= 0.75 * np.kron(digit, np.ones((scale, scale)))
    angle = float(rng.uniform(-15, 15))
    turned = Image.fromarray(note.clip(0, 255).astype(np.uint8)).rotate(angle, Image.Resampling.BILINEAR, expand=True)
    shape = Image.new("L", (width, width), 255).rotate(angle, Image.Resampling.BILINEAR, expand=True)
    side = int(turned.width * rng.uniform(2.0, 2.6))
    desk = Image.fromarray(rng.normal(rng.uniform(40, 90), 6, (side * 3 // 4, side)).clip(0, 255).astype(np.uint8))
    x, y = (int(rng.integers(10, limit - turned.width - 10)) for limit in desk.size)
    desk.paste(0, (x + 6, y + 8), shape.filter(ImageFilter.GaussianBlur(6)))  # the note's shadow
    desk.paste(turned, (x, y), shape)
    photo = np.asarray(desk, np.float32)
    if shade:
        rows, cols = np.mgrid[0 : photo.shape[0], 0 : photo.shape[1]] / max(photo.shape)
        direction = rng.uniform(0, 2 * np.pi)
        across = np.cos(direction) * (cols - cols.mean()) + np.sin(direction) * (rows - rows.mean())
        photo *= 1 - rng.uniform(0.25, 0.45) / (1 + np.exp(-across / 0.05))
    return Image.fromarray(photo.clip(0, 255).astype(np.uint8))


def test_a_note_on_a_dark_desk_is_the_page(reader, mnist):
    """A note a fifth of the photo: the sheet test needs a quarter of the photo light, and the
    desk or the note's shadow may be darker than the pen. The note is the largest light part
    (split from the desk at the Otsu level, so that a soft shadow across it keeps it whole), a
    rectangle at an angle, off the border, holding a little dark: it is the paper, and the
    desk around it is painted over. Measured: 3 of these 40 before ("0": the note's
    outline); 32 with the note cut at a fixed level under the lightest (5 of the 10
    shaded); 37 now (10 of 10)."""
    rng = np.random.default_rng(1)
    photos, labels = [], []
    for k in range(40):
        chosen = rng.choice(len(mnist.x_test), 3, replace=False)
        photos.append(note_on_desk(list(mnist.x_test[chosen]), rng, shade=k % 4 == 0))
        labels.append("".join(str(d) for d in mnist.y_test[chosen]))
    readings = reader.read_all(photos)
    assert share_read(readings, labels) >= 0.85, [getattr(r, "number", r) for r in readings]


def test_a_bold_light_digit_with_loops_is_no_note(reader, mnist):
    """A light digit's strokes, however bold, enclose a little dark too, but are no rectangle:
    they stay the ink (without that test, the first bold 0 read "no digit found")."""
    rng = np.random.default_rng(0)
    for digit in (0, 4, 6, 8, 9):
        for image in first_of(mnist, digit, 2):
            bold = Image.fromarray(image).resize((160, 160)).filter(ImageFilter.MaxFilter(9))
            photo = rng.normal(40, 6, (240, 240))  # a grainy dark ground
            photo[40:200, 40:200] += 0.8 * np.asarray(bold, np.float32)
            assert reader.read_number(png(Image.fromarray(photo.clip(0, 255).astype(np.uint8)))).number == str(digit)


def framed_board(digits: list[np.ndarray], rng: np.random.Generator, pen: float, frame: float) -> Image.Image:
    """A whiteboard photographed with its frame along one side, from end to end: digits of
    level `pen` on a board of 0.88, the frame a band of level `frame` 3-8 % of the image
    across, on one of the four sides."""
    height, width = 240, 120 + 90 * len(digits)
    board = 0.88 + rng.normal(0, 0.01, (height, width))
    left = 50
    for digit in digits:
        side, top = int(rng.integers(70, 95)), int(rng.integers(60, 90))
        strokes = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)) / 255
        board[top : top + side, left : left + side] += (pen - board[top : top + side, left : left + side]) * strokes
        left += int(side * 0.8)
    band = int(rng.integers(0.03 * height, 0.08 * height))
    board[[np.s_[:, :band], np.s_[:, -band:], np.s_[:band], np.s_[-band:]][int(rng.integers(4))]] = frame
    return Image.fromarray((board.clip(0, 1) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1))


def test_a_board_s_frame_along_a_side_is_no_ink(reader, mnist):
    """A whiteboard's frame along a side of the photo, darker than the marker, held the ink's
    strongest pixels: the writing fell under the threshold, and the frame was the digit ("1").
    Ink along a side from end to end, narrow and solid there, is painted over with the board's
    level (only taken out when the marker is as dark). Measured on these 40 numbers of 1-3
    test digits: in a lighter marker 13 of 20 read before, 19 now; in a darker one 20 and
    20; the one-digit reading, which took the frame into its box, 1 of the 9 single digits
    before, 9 now."""
    rng = np.random.default_rng(0)
    boards, labels = [], []
    for darker in (False, True):
        for _ in range(20):
            chosen = rng.choice(len(mnist.x_test), int(rng.integers(1, 4)), replace=False)
            pen, frame = (
                (rng.uniform(0.1, 0.2), rng.uniform(0.4, 0.6))
                if darker
                else (rng.uniform(0.45, 0.6), rng.uniform(0.15, 0.3))
            )
            boards.append(framed_board(list(mnist.x_test[chosen]), rng, pen, frame))
            labels.append("".join(str(d) for d in mnist.y_test[chosen]))
    readings = reader.read_all(boards)
    assert share_read(readings[:20], labels[:20]) >= 0.85, [getattr(r, "number", r) for r in readings]
    assert share_read(readings[20:], labels[20:]) >= 0.9, [getattr(r, "number", r) for r in readings]
    single = [(reader.read(board).digit, int(label)) for board, label in zip(boards, labels) if len(label) == 1]
    assert np.mean([read == label for read, label in single]) >= 0.85, single


def test_a_digit_cropped_tight_keeps_a_stroke_along_its_border(reader, mnist):
    """The frame test asks for a part of its own, narrow across the image: a 7's bar along
    the top of its tight crop is one part with its stem, and a 1 fills its crop across."""
    for digit in (7, 1, 4):
        for image in first_of(mnist, digit, 5):
            rows, cols = np.nonzero(image > 0)
            crop = 255 - image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            big = Image.fromarray(crop).resize((crop.shape[1] * 6, crop.shape[0] * 6), Image.Resampling.BILINEAR)
            assert reader.read_number(big).number == str(digit)


def on_a_form(digits: list[np.ndarray], rng: np.random.Generator, logo: str, lines: int) -> Image.Image:
    """A printed form with a handwritten number on it: `lines` lines of small print (letters
    only), a solid printed logo with white letters in its top corner (`logo`: "circle",
    "triangle", "rectangle" or "" for none), the number in pen a few times the print's
    height, lower down."""
    form = Image.new("L", (560, 700), int(rng.integers(225, 250)))
    draw = ImageDraw.Draw(form)
    font = ImageFont.load_default(size=int(rng.integers(11, 15)))
    words = ["total", "amount", "date", "name", "room", "order", "paid", "cash", "change", "city"]
    for k in range(lines):
        text = " ".join(rng.choice(words, int(rng.integers(2, 6))))
        draw.text((30, 120 + 22 * k), text.capitalize(), fill=int(rng.integers(20, 70)), font=font)
    side, left = int(rng.integers(80, 110)), int(rng.integers(20, 420))
    box = (left, 12, left + side, 12 + side * (3 if logo == "rectangle" else 4) // 4)
    if logo == "circle":
        draw.ellipse(box, fill=int(rng.integers(30, 90)))
    elif logo == "triangle":
        draw.polygon(
            [(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) // 2, box[1])], fill=int(rng.integers(30, 90))
        )
    elif logo == "rectangle":
        draw.rounded_rectangle(box, radius=8, fill=int(rng.integers(30, 90)))
    if logo:
        letters = "".join(rng.choice(list("ABDEKMORSTWX"), 3))
        centre = ((box[0] + box[2]) // 2, (box[1] + 3 * box[3]) // 4 if logo == "triangle" else (box[1] + box[3]) // 2)
        draw.text(centre, letters, fill=245, font=ImageFont.load_default(size=side // 4), anchor="mm")
    height, left = int(rng.integers(45, 70)), int(rng.integers(40, 200))
    top = 130 + 22 * lines
    page = np.asarray(form, np.float32)
    for digit in digits:
        strokes = np.asarray(Image.fromarray(digit).resize((height, height), Image.Resampling.BILINEAR), np.float32)
        page[top : top + height, left : left + height] *= 1 - 0.8 * strokes / 255
        left += int(height * rng.uniform(0.75, 0.95))
    return Image.fromarray(page.astype(np.uint8))


def test_a_printed_logo_is_no_digit_and_the_number_on_the_form_is_read(reader, mnist):
    """A solid printed logo (a disc, a triangle, a rounded box with white letters) was the
    heaviest ink on a form: it became the reference digit ("0" at 0.98) and the handwritten
    number, off its line, was dropped. Ink that fills a convex outline but for holes side by
    side (letters) is an object, never the reference. Measured on these 30 forms: 1 read
    before, 23 now."""
    rng = np.random.default_rng(21)
    forms, labels = [], []
    for k in range(30):
        chosen = rng.choice(len(mnist.x_test), int(rng.integers(2, 5)), replace=False)
        forms.append(on_a_form(list(mnist.x_test[chosen]), rng, ["circle", "triangle", "rectangle"][k % 3], 3))
        labels.append("".join(str(d) for d in mnist.y_test[chosen]))
    readings = reader.read_all(forms)
    assert share_read(readings, labels) >= 0.7, [getattr(r, "number", r) for r in readings]


def test_a_number_written_among_small_print_is_read(reader, mnist):
    """A page with many lines of small print has hundreds of parts, and only parts far larger
    in area than the median one (a letter) were kept, as among grain: a pen's digits four
    times the print's height often were not. On a page of no more than 500 parts (print, not
    grain), a part that many times taller is kept too, when its area is a pen's stroke's (3
    times its height: grain's strands are thinner). Measured on these 30 forms: 12 read
    before, 18 now."""
    rng = np.random.default_rng(22)
    forms, labels = [], []
    for _ in range(30):
        chosen = rng.choice(len(mnist.x_test), int(rng.integers(2, 5)), replace=False)
        forms.append(on_a_form(list(mnist.x_test[chosen]), rng, "", 18))
        labels.append("".join(str(d) for d in mnist.y_test[chosen]))
    readings = reader.read_all(forms)
    assert share_read(readings, labels) >= 0.55, [getattr(r, "number", r) for r in readings]


def test_ink_as_bright_as_the_paper_is_read_by_its_hue(reader, mnist):
    """Red ink on green paper of the same brightness: luminance shows no ink ("no digit
    found"). When no ink stands out, the image is looked at along its main axis of hue.
    JPEGs are decoded in YCbCr for it (their luminance as before). Measured on these 20 (10
    PNG, 10 JPEG): none read before, 8 and 8 now."""
    rng = np.random.default_rng(23)
    images, labels = [], []
    for k in range(20):
        chosen = rng.choice(len(mnist.x_test), 2, replace=False)
        row = np.concatenate([np.pad(d, 4) for d in mnist.x_test[chosen]], axis=1)
        strokes = np.asarray(Image.fromarray(row).resize((row.shape[1] * 4, 144), Image.Resampling.BILINEAR)) / 255
        ink, paper = (
            (np.array([200, 70, 60]), np.array([70, 150, 60]))
            if k % 2
            else (np.array([70, 150, 60]), np.array([200, 70, 60]))
        )
        pixels = paper * (1 - strokes[..., None]) + ink * strokes[..., None] + rng.normal(0, 3, strokes.shape + (3,))
        image = Image.fromarray(np.pad(pixels.clip(0, 255), ((40, 40), (40, 40), (0, 0)), mode="edge").astype(np.uint8))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG" if k < 10 else "JPEG", quality=90)
        images.append(buffer.getvalue())
        labels.append("".join(str(d) for d in mnist.y_test[chosen]))
    readings = reader.read_all(images)
    assert share_read(readings[:10], labels[:10]) >= 0.8, [getattr(r, "number", r) for r in readings]
    assert share_read(readings[10:], labels[10:]) >= 0.8, [getattr(r, "number", r) for r in readings]


def dashed_row(rng: np.random.Generator) -> Image.Image:
    """4-6 straight dashes, each leaning 56-70 degrees from upright, on grainy paper."""
    count = int(rng.integers(4, 7))
    sheet = Image.new("L", (60 + 70 * count, 180), int(rng.integers(215, 245)))
    draw = ImageDraw.Draw(sheet)
    for k in range(count):
        lean, half = np.radians(rng.uniform(56, 70)) * rng.choice([-1, 1]), rng.uniform(12, 22)
        x, y, dx, dy = 60 + 70 * k, 90 + rng.uniform(-10, 10), half * np.sin(lean), half * np.cos(lean)
        draw.line((x - dx, y + dy, x + dx, y - dy), fill=int(rng.integers(20, 80)), width=int(rng.integers(3, 7)))
    pixels = np.asarray(sheet.filter(ImageFilter.GaussianBlur(0.8)), np.float32) + rng.normal(0, 3, sheet.size[::-1])
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def test_a_straight_stroke_lying_flat_is_no_digit(reader, mnist):
    """A dashed line's dashes, leaning further from upright than a 1, read as 1s and 2s at up
    to 0.97. Measured on these 30 rows: 93 digits before (53 1s, 40 2s), 5 now. None of
    MNIST's test digits, framed, is such a stroke."""
    rng = np.random.default_rng(16)
    readings = reader.read_all([dashed_row(rng) for _ in range(30)])
    read = "".join(r.number for r in readings if isinstance(r, Reading))
    assert sum(character.isdigit() for character in read) <= 10, read
    flat = [segment.lies_flat(preprocessing.frame_digit(image / 255.0)) for image in mnist.x_test]
    assert not any(flat), np.flatnonzero(flat)


def test_a_sheet_on_a_desk_is_told_the_same_way_round_on_every_cpu():
    """The sheet test looks at the darkest pixels: are they on the sheet (ink) or beside it? It
    took the 16 darkest by np.argpartition, and among equals (saturated black: a stroke on the
    sheet, a cable on the desk) which it picks depends on the pixels' order and on the CPU's
    sort (an independent check's light number read "152" on aarch64, "0" on x86). All pixels
    as dark as the 16th darkest are looked at now: the same answer flipped, or on any CPU."""
    photo = np.full((200, 300), 0.35, np.float32)  # a desk, most of the photo
    photo[60:170, 120:260] = 0.9  # a sheet on it
    photo[90:130, 180:182] = 0.0  # a black stroke on the sheet: 80 pixels
    photo[10, 10:50] = 0.0  # a black cable on the desk: 40 pixels, first in the pixels' order
    for view in (photo, photo[::-1], photo.T, photo[:, ::-1]):
        view = np.ascontiguousarray(view)
        ink = preprocessing.ink_map(view)
        assert ink[view == 0.0].mean() > 2 * ink[view != 0.0].mean()


def test_a_vignettes_residue_inside_the_page_is_not_a_digit(reader, mnist):
    """What a vignette leaves inside a big page (a streak beside the digit, a tenth of the pen's
    strength) is no digit. Measured on these 100 pages: 99 %; 97 % when strength was compared
    at the image border only."""
    rng = np.random.default_rng(11)
    pages = [page(image, rng)[1][1] for image in mnist.x_test[:100]]
    readings = reader.read_all(pages)
    accuracy = share_read(readings, mnist.y_test[:100])
    assert accuracy >= 0.98, accuracy


def columns_of(i: int, scale: int = 4, gap: int = 40) -> slice:
    """The columns of the i-th digit that `on_paper` writes."""
    left = gap + i * (28 * scale + gap)
    return slice(left, left + 28 * scale)


def lighter(page: np.ndarray, columns: slice, darkness: float) -> None:
    """The ink in `columns` of an `on_paper` page made `darkness` times as dark, in place."""
    page[:, columns] = 230 - (230 - page[:, columns]) * darkness


def test_a_digit_half_as_dark_as_its_neighbours_is_read(reader, mnist):
    pencil = on_paper([first_of(mnist, d, 1)[0] for d in (3, 5, 8)]).astype(np.float32)
    lighter(pencil, columns_of(1), 0.5)  # the 5 in grey, half as dark
    assert reader.read_number(png(Image.fromarray(pencil.astype(np.uint8)))).number == "358"


def rows_of_three(mnist, rng: np.random.Generator, count: int, change) -> tuple[list[bytes], list[str]]:
    """`count` PNGs of three test digits on paper (a fourth place left blank), each passed as
    a float page with `rng` to `change` before grain (sigma 2) is added; the three digits
    are their labels."""
    pages, labels = [], []
    for i in range(count):
        left, right = rng.integers(len(mnist.x_test), size=2)
        page = on_paper([mnist.x_test[left], mnist.x_test[i], mnist.x_test[right], np.zeros((28, 28), np.uint8)])
        page = page.astype(np.float32)
        change(page, rng)
        page += rng.normal(0, 2, page.shape)
        pages.append(png(Image.fromarray(page.clip(0, 255).astype(np.uint8))))
        labels.append(f"{mnist.y_test[left]}{mnist.y_test[i]}{mnist.y_test[right]}")
    return pages, labels


def test_a_digit_far_lighter_than_its_neighbours_is_read(reader, mnist):
    """A digit a quarter to under half as dark as the two beside it (a harder pencil, a pen
    running dry) falls below the one ink threshold of the whole image. Of these 200 rows, 164
    lost it before the lighter parts were looked at (step 6b), 7 now (187 right, 35 before)."""
    pages, labels = rows_of_three(
        mnist, np.random.default_rng(0), 200, lambda page, rng: lighter(page, columns_of(1), rng.uniform(0.25, 0.45))
    )
    readings = reader.read_all(pages)
    too_short = sum(len(getattr(r, "number", "")) < 3 for r in readings)
    assert too_short <= 14 and share_read(readings, labels) >= 0.9, (too_short, share_read(readings, labels))


def test_a_lighter_digit_with_a_blot_of_full_ink_is_read(reader, mnist):
    """A light digit where the pen rested on one stroke: its strength is its ink's 90th
    percentile, not the blot's. Of these 200 rows, 186 read right (40 when a lighter part's
    strength was its peak, cutting it as dark as the blot; 37 before lighter parts)."""

    def blotted(page: np.ndarray, rng: np.random.Generator) -> None:
        middle = page[:, columns_of(1)]  # a view
        dark = middle.copy()
        lighter(page, columns_of(1), rng.uniform(0.3, 0.45))
        ys, xs = np.nonzero(dark < 150)
        k = int(rng.integers(len(ys)))
        blot = slice(ys[k] - 5, ys[k] + 5), slice(xs[k] - 5, xs[k] + 5)
        middle[blot] = dark[blot]  # full ink, 10 px square, on a stroke

    pages, labels = rows_of_three(mnist, np.random.default_rng(0), 200, blotted)
    assert share_read(reader.read_all(pages), labels) >= 0.88


def test_a_digit_showing_through_from_the_back_of_the_page_is_no_digit(reader, mnist):
    """A mirrored, blurred digit a quarter to 0.4 as dark beside a number (the back of a thin
    page) is as light and as tall as a lighter digit, but its edges are soft for their
    contrast (`_sharpness`). Of these 200 rows, it was read as a digit in 193 when every
    sure lighter part was one, in 4 now (1 before lighter parts were looked at)."""

    def showing_through(page: np.ndarray, rng: np.random.Generator) -> None:
        back = mnist.x_test[int(rng.integers(len(mnist.x_test)))][:, ::-1]
        ghost = Image.fromarray(np.kron(back, np.ones((4, 4))).astype(np.uint8))
        ghost = np.asarray(ghost.filter(ImageFilter.GaussianBlur(rng.uniform(2, 4))), np.float32)
        page[40 : 40 + 112, columns_of(3)] -= ghost * 0.8 * rng.uniform(0.25, 0.4)

    pages, labels = rows_of_three(mnist, np.random.default_rng(0), 200, showing_through)
    readings = reader.read_all(pages)
    too_long = sum(len(getattr(r, "number", "")) > 3 for r in readings)
    assert too_long <= 12 and share_read(readings, labels) >= 0.9, (too_long, share_read(readings, labels))


def test_a_light_tick_or_cross_beside_a_number_is_no_digit(reader, mnist):
    """A tick or a cross in light pencil, as tall as a digit, beside a number: a lighter part
    the model does not read surely (under LIGHT_SURE) is a mark. Of these 200 rows, it was
    read as a digit or `?` in 195 when every lighter part was a digit, in 3 now (3 before
    lighter parts were looked at)."""

    def marked(page: np.ndarray, rng: np.random.Generator) -> None:
        image = Image.fromarray(page)
        draw, x, level = ImageDraw.Draw(image), columns_of(3).start, 230 - 200 * rng.uniform(0.25, 0.4)
        width = int(rng.integers(4, 8))
        if rng.random() < 0.5:
            draw.line([(x + 10, 100), (x + 40, 140), (x + 100, 50)], fill=level, width=width)
        else:
            draw.line([(x + 15, 55), (x + 95, 135)], fill=level, width=width)
            draw.line([(x + 95, 55), (x + 15, 135)], fill=level, width=width)
        page[:] = np.asarray(image)

    pages, labels = rows_of_three(mnist, np.random.default_rng(0), 200, marked)
    readings = reader.read_all(pages)
    too_long = sum(len(getattr(r, "number", "")) > 3 for r in readings)
    assert too_long <= 8 and share_read(readings, labels) >= 0.93, (too_long, share_read(readings, labels))


def test_a_digit_a_fortieth_of_a_photo_is_read_at_twice_the_resolution(reader, mnist):
    """A digit 2.5 % of the photo's long side is 7 px tall on the working image, under the
    share of the side below which a part is a speck: it is looked for again at twice the
    resolution, where ink under a fifth of the pen's (a vignette's shades) is paper.
    Measured: 90 % of these 20; 5 % before (the rest "no digit found" or "?")."""
    rng = np.random.default_rng(5)
    readings = reader.read_all([photo(image, rng) for image in mnist.x_test[:20]])
    assert share_read(readings, mnist.y_test[:20]) >= 0.8, [getattr(r, "number", r) for r in readings]


def test_a_digit_an_eightieth_of_a_photo_is_read_at_four_times_the_resolution(reader, mnist):
    """A digit 1.25 % of the photo's long side is still under 12 px tall at twice the
    resolution, mostly "no digit found" or `?`: it is looked for once more at four times.
    Measured: 1 of these 20 before, 14 now."""
    rng = np.random.default_rng(5)
    readings = reader.read_all([photo(image, rng, share=0.0125) for image in mnist.x_test[:20]])
    assert share_read(readings, mnist.y_test[:20]) >= 0.6, [getattr(r, "number", r) for r in readings]


def test_a_number_a_hundredth_of_a_page_is_read(reader, mnist):
    """A four-digit number written about a hundredth of a 3000x2000 scan's width tall, as on
    a full page: 9 px tall at twice the resolution it was lost or cut short ("416" for
    "4106"). Measured: 0 of these 8 before, 8 now."""
    rng = np.random.default_rng(3)
    pages, labels = [], []
    for _ in range(8):
        chosen = rng.choice(len(mnist.x_test), 4, replace=False)
        number = np.asarray(Image.fromarray(on_paper(list(mnist.x_test[chosen]), scale=2, gap=6)).resize((216, 68)))
        sheet = np.full((2000, 3000), 230.0) + rng.normal(0, 4, (2000, 3000))
        top, left = int(rng.integers(200, 1700)), int(rng.integers(200, 2600))
        sheet[top : top + number.shape[0], left : left + number.shape[1]] = number
        pages.append(Image.fromarray(np.clip(sheet, 0, 255).astype(np.uint8)))
        labels.append("".join(str(d) for d in mnist.y_test[chosen]))
    readings = reader.read_all(pages)
    assert sum(getattr(r, "number", None) == label for r, label in zip(readings, labels)) >= 7, [
        getattr(r, "number", r) for r in readings
    ]


def test_the_grain_of_a_blank_photo_is_no_digit_at_twice_the_resolution(reader):
    """Looked at closer, strong grain clumps into digit-sized groups: 2 of these 6 read "?"
    before a group had to stand out from the paper around it by 6 times the grain."""
    rng = np.random.default_rng(0)
    for _ in range(6):
        with pytest.raises(ImageError, match="no digit found"):
            reader.read_number(photo(None, rng, grain=0.08))


def test_a_tight_crop_of_one_big_digit_with_grain_is_read(reader, mnist):
    """A digit filling a 400-500 px crop spans the page, which also sends a page taken for
    ink to a second look; there the grain broke it into `?`s (0 of these 40 read). A second
    look that spans the page again is not used: 75 %, as before the second look. One of them,
    a thin 1, was "cannot process" then: its widened strokes took in a faint part the first
    ink box had trimmed, and the scaled crop overflowed the 28x28 frame. Two bold 1s here,
    their crops mostly ink, are "no digit found" since such crops are told by the shape of
    their ink (the slivers of paper beside them, taken for the ink, read "1" by luck): on 400
    training digits so made, "no digit found" fell from 13 to 8, misreadings from 3 to 1."""
    rng = np.random.default_rng(0)
    crops = []
    for image in mnist.x_test[300:340]:
        rows, cols = np.nonzero(image > 30)
        tight = 255 - image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        big = np.asarray(Image.fromarray(tight).resize((tight.shape[1] * 25, tight.shape[0] * 25)), np.float32)
        crops.append(Image.fromarray(np.clip(big + rng.normal(0, 5, big.shape), 0, 255).astype(np.uint8)))
    readings = reader.read_all(crops)
    assert sum(not isinstance(r, Reading) for r in readings) <= 2, readings
    assert share_read(readings, mnist.y_test[300:340]) >= 0.7, [getattr(r, "number", r) for r in readings]


def test_squared_paper_is_no_digit_at_twice_the_resolution(reader):
    """At 256 px across a 2000 px photo's 25 px squares are averaged away ("no digit found");
    at twice that they are lines again, broken into digit-sized pieces ("877" before those
    had to stand out from what else darkens the paper around them)."""
    for seed in range(4):
        rng = np.random.default_rng(seed)
        sheet = np.full((1500, 2000), 215.0) + rng.normal(0, 5, (1500, 2000))
        sheet[::25] *= 0.7
        sheet[:, ::25] *= 0.7
        with pytest.raises(ImageError, match="no digit found"):
            reader.read_number(Image.fromarray(sheet.astype(np.uint8)))


def test_grain_in_clumps_is_no_digit(reader):
    """Blurred grain (a phone's noise reduction, rough paper) hardly differs between
    neighbouring pixels, but lies well off the paper's plane: measured that way too, it is no
    digit (9 of these 40 read one when only neighbours were compared, 1 now)."""
    rng = np.random.default_rng(2)
    readable = []
    for _ in range(40):
        side = int(rng.integers(60, 240))
        grain = rng.normal(0, rng.uniform(10, 40), (side, side)) + 128
        blurred = np.asarray(
            Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2))
        )
        image = np.clip(rng.uniform(150, 230) + 2 * (blurred - 128.0), 0, 255).astype(np.uint8)
        result = reader.read_all([Image.fromarray(image)])[0]
        readable += [result.number] if isinstance(result, Reading) and any(d.readable for d in result.digits) else []
    assert len(readable) <= 1, readable


def dim(digit: np.ndarray, rng: np.random.Generator, brightness: float) -> Image.Image:
    """A digit photographed in poor light: paper at `brightness` of full scale, ink a quarter
    to two fifths darker than the paper, a little light falling off across the page."""
    height, width = rng.integers(80, 240, 2)
    side = int(rng.integers(30, min(height, width) - 5))
    strokes = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255
    sheet = 255 * brightness * np.linspace(0.9, 1.1, width)[None, :].repeat(height, axis=0)
    y, x = rng.integers(0, height - side), rng.integers(0, width - side)
    sheet[y : y + side, x : x + side] *= 1 - rng.uniform(0.25, 0.4) * strokes
    return Image.fromarray(np.clip(sheet + rng.normal(0, 1.5, sheet.shape), 0, 255).astype(np.uint8))


def test_a_dim_photo_is_read_and_a_black_one_is_blank(reader, mnist):
    """Ink must stand out by a share of the image's lightest level, not of full scale: a dim
    photo's paper is grey and its ink as much darker in proportion (32 of these 60 read when
    the bar was 0.15 of full scale, 55 now). A black image's noise stays no digit."""
    rng = np.random.default_rng(4)
    images = [
        dim(image, rng, brightness) for image, brightness in zip(mnist.x_test[600:660], np.tile([0.3, 0.45, 0.6], 20))
    ]
    readings = reader.read_all(images)
    assert share_read(readings, mnist.y_test[600:660]) >= 0.9, [getattr(r, "number", r) for r in readings]
    black = np.clip(rng.normal(6, 3, (120, 160)), 0, 255).astype(np.uint8)
    with pytest.raises(ImageError, match="no digit found"):
        reader.read_number(Image.fromarray(black))


def tight_on_lit_paper(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A digit cropped tight (0-4 px of paper around it) from a photo whose light changes by
    50-80 levels across the crop, in any direction."""
    rows, cols = np.nonzero(digit > 30)
    tight = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height = int(rng.integers(28, 120))
    width = max(2, round(tight.shape[1] * height / tight.shape[0]))
    strokes = np.asarray(Image.fromarray(tight).resize((width, height), Image.Resampling.BICUBIC), np.float32) / 255
    margin = int(rng.integers(0, 5))
    y, x = np.mgrid[0 : height + 2 * margin, 0 : width + 2 * margin]
    angle = rng.uniform(0, 2 * np.pi)
    across = np.cos(angle) * x / x.shape[1] + np.sin(angle) * y / y.shape[0]
    sheet = 230 - rng.uniform(50, 80) * (across - across.min()) / np.ptp(across)
    sheet[margin : margin + height, margin : margin + width] -= rng.uniform(60, 150) * strokes
    return Image.fromarray(np.clip(sheet + rng.normal(0, 2, sheet.shape), 0, 255).astype(np.uint8))


def test_a_tight_crop_of_a_digit_on_lit_paper_is_read(reader, mnist):
    """The paper either side of such a crop differs as a sheet's edge does (`on_an_edge`), but
    the strokes are darker than both sides, where the residue of an edge lies between them.
    Measured: 57 of these 60 read; 44 when the two sides' levels alone decided."""
    rng = np.random.default_rng(6)
    readings = reader.read_all([tight_on_lit_paper(image, rng) for image in mnist.x_test[700:760]])
    assert share_read(readings, mnist.y_test[700:760]) >= 0.9, [getattr(r, "number", r) for r in readings]


def test_a_blank_page_ruled_in_dark_lines_is_no_digit(reader):
    """With its light's residue, the lines of a dark-ruled page join into one part that spans
    the page; chosen as the reference digit, it made every line fragment digit-sized (2 of
    these 32 read a digit). A part holding five lines or more across the image is not chosen."""
    readable = []
    for seed in range(8):
        for spacing in (15, 25, 40, 60):
            rng = np.random.default_rng(seed)
            sheet = realistic_paper(1500, 2000, rng, level=0.82, lighting=0.2, vignette=rng.uniform(0, 0.3))
            lines = np.zeros((1500, 2000), np.float32)
            lines[::spacing] = 1
            lines[:, 150:153] = 1  # the margin
            pixels = np.round(np.clip(sheet * (1 - rng.uniform(0.45, 0.8) * lines), 0, 1) * 255).astype(np.uint8)
            result = reader.read_all([Image.fromarray(pixels)])[0]
            if isinstance(result, Reading) and any(d.readable for d in result.digits):
                readable.append((seed, spacing, result.number))
    assert not readable, readable


def test_a_bold_marker_digit_cropped_tight_is_read(reader, mnist):
    """A fat marker's digit cropped with a few pixels of paper is most of the image: its median
    is ink, so the polarity step took it for light ink on dark paper, and no window of the
    background step fits between its strokes. Paper framing the image now means dark ink
    (unless the dark is a rectangle, convex, or holds much light: a board, a thumb, a light
    digit on a badge), and the light on it is the plane through that frame. Measured: 38 of
    these 60 read right; 20 before (most "no digit found"); the rest are marked unreadable, a
    few misread."""
    rng = np.random.default_rng(8)
    images = [
        marker_row([image], int(rng.choice([50, 100, 180])), 5, 0, int(rng.integers(2, 12)))
        for image in mnist.x_test[800:860]
    ]
    readings = reader.read_all(images)
    assert share_read(readings, mnist.y_test[800:860]) >= 0.6, [getattr(r, "number", r) for r in readings]


def test_a_digit_cropped_tight_around_bold_strokes_is_read_in_either_polarity(reader, mnist):
    """A digit cropped to its ink's box (an app's crop, a canvas trimmed to the strokes):
    bold strokes can be over half the pixels, so the median is ink and the polarity step
    inverted the image, reading the corners and loops as the digit. In such a crop the ink
    is one part reaching across the image, the paper several. Measured on these 118 (of
    2,000 digits, those whose crop is mostly ink): 19 read right either way before, 97 as
    light ink and 103 as dark then; 105 and 105 since a light crop's background is the
    border's plane and a bold 0 is a ring (2026-11-29, fourth session)."""
    crops, labels = [], []
    for image, label in zip(mnist.x_test[2000:4000], mnist.y_test[2000:4000]):
        rows, cols = np.nonzero(image > 30)
        crop = Image.fromarray(image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])
        crop = np.asarray(crop.resize((crop.width * 3, crop.height * 3), Image.Resampling.BICUBIC))
        if np.median(crop) >= 128:  # mostly ink
            crops.append(crop)
            labels.append(label)
    assert len(crops) >= 40
    light_ink = reader.read_all(crops)
    dark_ink = reader.read_all([255 - crop for crop in crops])
    assert share_read(light_ink, labels) >= 0.75, [getattr(r, "number", r) for r in light_ink]
    assert share_read(dark_ink, labels) >= 0.75, [getattr(r, "number", r) for r in dark_ink]


def bold_crops(images: np.ndarray, pens: tuple[int, ...], margins: tuple[int, ...]) -> list[np.ndarray]:
    """MNIST digits in a marker (widened by a `pens[k]`-pixel max filter), 3-5 times their
    size, cropped to their ink with `margins[k]` pixels to spare: ink strength in [0, 1]."""
    crops = []
    for k, image in enumerate(images):
        bold = Image.fromarray(image).filter(ImageFilter.MaxFilter(pens[k % len(pens)]))
        big = np.asarray(bold.resize((28 * (3 + k % 3),) * 2, Image.Resampling.BICUBIC), np.float32) / 255
        rows, cols = np.nonzero(big > 0.3)
        margin = margins[k % len(margins)]
        crops.append(
            big[
                max(rows.min() - margin, 0) : rows.max() + 1 + margin,
                max(cols.min() - margin, 0) : cols.max() + 1 + margin,
            ]
        )
    return crops


def drawn(crops: list[np.ndarray], ink: int, paper: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Ink strengths as uint8 images: `ink` on `paper` grey, with a sensor's grain."""
    return [np.clip(paper + (ink - paper) * c + rng.normal(0, 3, c.shape), 0, 255).astype(np.uint8) for c in crops]


def test_a_fat_marker_s_light_digit_cropped_tight_keeps_its_strokes(reader, mnist):
    """A light digit in a fat marker (strokes a quarter of its height), cropped to its ink:
    the polarity step found the light strokes right, but the background step's window fits
    inside them, lifted the "background" into the strokes and left scraps (no digit found).
    Its dark ground lies along the border as paper does around a dark digit cropped tight,
    so its background is now the plane through the border, as for that digit. Measured on
    these 60: light ink 11 read right before, 38 with that, 39 with the next test's rule
    too; dark ink 40, then 41 (the model reads such bold digits at about 95 % as MNIST
    tensors: most of the rest is their loops filled in at this size)."""
    rng = np.random.default_rng(8)
    crops, labels = bold_crops(mnist.x_test[8000:8060], pens=(5,), margins=(0, 1, 2)), mnist.y_test[8000:8060]
    assert share_read(reader.read_all(drawn(crops, 230, 30, rng)), labels) >= 0.55
    assert share_read(reader.read_all(drawn(crops, 25, 225, rng)), labels) >= 0.55


def test_a_bold_0_cropped_tight_is_a_ring_not_a_badge(reader, mnist):
    """A bold 0 cropped to its ink is convex with the hole it encloses, as a coin or a badge
    is with the digit on it, so the ring was taken for the ground and the hole for the ink
    (no digit found). A badge's digit has strokes and a 1's bar is long; a 0's hole is one
    round piece, at least a fifth of the ring across (a coin's centre hole, a badge's dot
    are less). Measured on these 40: 3 read "0" before, 24 now as light ink, 25 as dark
    (26 and 27 without the fifth: the boldest 0s' holes are smaller)."""
    rng = np.random.default_rng(0)
    crops = bold_crops(mnist.x_test[8000:][mnist.y_test[8000:] == 0][:40], pens=(3, 5), margins=(0,))
    for ink, paper in ((230, 30), (25, 225)):
        assert share_read(reader.read_all(drawn(crops, ink, paper, rng)), [0] * len(crops)) >= 0.45


def test_a_light_digit_on_a_dark_square_padded_with_white_keeps_its_polarity(reader, mnist):
    """MNIST's own white-on-black digit, padded with white (a screenshot, a scan's margin):
    paper-coloured border and dark most of the image, like a marker's tight crop, but the
    dark is a rectangle. Taken for dark ink, it read 5 of these 60; as before the marker rule,
    30 (the square's outline still reads "0" in most of the rest: left alone)."""
    rng = np.random.default_rng(13)
    images = []
    for image in mnist.x_test[1200:1260]:
        big = np.asarray(Image.fromarray(image).resize((112, 112), Image.Resampling.BICUBIC))
        images.append(Image.fromarray(np.pad(big, int(rng.integers(4, 30)), constant_values=255)))
    readings = reader.read_all(images)
    assert share_read(readings, mnist.y_test[1200:1260]) >= 0.4, [getattr(r, "number", r) for r in readings]


def test_a_badge_or_a_dark_object_on_paper_is_no_marker_digit(reader, mnist):
    """A light digit on a dark disc (a badge), or a dark shape alone, filling most of a sheet:
    dark is most of the image and paper lines the border, as with a marker's tight crop. But
    the dark, with what it encloses, is convex; taken for ink, the badges read "0" (1 of these
    40 right; 23 before the marker rule and now) and 13 of the 40 shapes read a digit (5 now)."""
    rng = np.random.default_rng(14)
    badges = []
    for image in mnist.x_test[1300:1340]:
        side = int(rng.integers(120, 240))
        sheet = Image.new("L", (side, side), 235)
        pad = int(side * rng.uniform(0.02, 0.08))
        ImageDraw.Draw(sheet).ellipse([pad, pad, side - pad, side - pad], fill=int(rng.integers(20, 60)))
        inner = int(side * 0.55)
        strokes = Image.fromarray(image).resize((inner, inner), Image.Resampling.BICUBIC)
        sheet.paste(Image.new("L", (inner, inner), 240), ((side - inner) // 2,) * 2, strokes)
        badges.append(sheet)
    assert share_read(reader.read_all(badges), mnist.y_test[1300:1340]) >= 0.45
    shapes = []
    for k in range(40):
        side = int(rng.integers(120, 240))
        sheet = Image.new("L", (side, side), 235)
        draw, pad, corners = ImageDraw.Draw(sheet), int(side * rng.uniform(0.02, 0.1)), int(rng.integers(5, 9))
        if k % 2:  # a polygon: a coin's, a nut's, a badge's outline
            angles = np.linspace(0, 2 * np.pi, corners, endpoint=False)
            radius = side / 2 - pad
            draw.polygon([(side / 2 + radius * np.cos(a), side / 2 + radius * np.sin(a)) for a in angles], fill=50)
        else:  # an ellipse: a thumb, a pebble
            draw.ellipse(
                [pad, int(side * rng.uniform(0.02, 0.2)), side - pad, side - pad], fill=int(rng.integers(20, 80))
            )
        shapes.append(sheet)
    read = [r.number for r in reader.read_all(shapes) if isinstance(r, Reading) and any(d.readable for d in r.digits)]
    assert len(read) <= 8, read


def coin(width: int, height: int, seed: int) -> Image.Image:
    """A dark mottled coin (or disc) photographed to fill the frame, paper in the corners."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width]
    radius = np.hypot((rows + 0.5) / height - 0.5, (cols + 0.5) / width - 0.5)
    mottled = Image.fromarray(rng.uniform(0, 40, (height // 6, width // 6)).astype(np.float32))
    metal = rng.uniform(50, 110) + np.asarray(mottled.resize((width, height), Image.Resampling.BICUBIC)) - 30 * radius
    pixels = np.where(radius < rng.uniform(0.46, 0.5), metal, [235, 250][seed % 2])
    return Image.fromarray(np.clip(pixels + rng.normal(0, 3, (height, width)), 0, 255).astype(np.uint8))


def test_a_coin_that_fills_the_photo_is_no_digit(reader):
    """The paper left in the corners around it was taken for a tight crop's ink and read
    (an outline "0" or "2", or `?`). Measured on these 60: 53 gave a reading before (5 with
    a readable digit), 13 now (none readable)."""
    sizes = [(120, 200), (200, 200), (240, 160), (160, 220), (300, 300)]
    readings = reader.read_all([coin(*sizes[seed % 5], seed) for seed in range(60)])
    found = [r.number for r in readings if isinstance(r, Reading)]
    assert len(found) <= 20 and sum(number.strip("?") != "" for number in found) <= 1, found


def test_a_light_digit_on_a_dark_speech_bubble_stays_the_ink(mnist):
    """A dark speech bubble cropped tight, a light digit on it: its tail cuts the paper below
    it in two, as a bold digit's strokes cut the paper of a tight crop, and it is not convex.
    Taken for ink (7 of an independent check's images), its body was the "digit". Full along
    three sides, it is a shape: the digit's strokes stay the ink (30 of these 30, as before
    the tight-crop rule; 6 without its three-sides test)."""
    rng = np.random.default_rng(15)
    kept = 0
    for image in mnist.x_test[4000:4030]:
        width, height = int(rng.integers(140, 260)), int(rng.integers(110, 200))
        bottom = int(height * rng.uniform(0.75, 0.85))  # of the bubble's body, above its tail
        sheet = Image.new("L", (width, height), 235)
        draw = ImageDraw.Draw(sheet)
        draw.rounded_rectangle([0, 0, width - 1, bottom], radius=int(bottom * 0.2), fill=int(rng.integers(20, 70)))
        tail = int(width * rng.uniform(0.25, 0.6))
        draw.polygon([(tail, bottom - 2), (tail + width // 8, bottom - 2), (tail, height - 1)], fill=40)
        side = int(bottom * 0.7)
        strokes = Image.fromarray(image).resize((side, side), Image.Resampling.BICUBIC)
        corner = ((width - side) // 2, (bottom - side) // 2)
        sheet.paste(Image.new("L", (side, side), 240), corner, strokes)
        digit = np.zeros((height, width), bool)
        digit[corner[1] : corner[1] + side, corner[0] : corner[0] + side] = np.asarray(strokes) > 128
        bubble = np.asarray(sheet) < 128
        ink = preprocessing.ink_map(preprocessing.to_grayscale(sheet))
        kept += ink[digit].mean() > 0.5 and ink[bubble].mean() < 0.2
    assert kept >= 27, kept


def test_the_inside_of_a_wide_stroke_is_ink(reader, mnist, monkeypatch):
    """A marker's stroke, or a loop it filled in, wider than the background step's window was
    taken for paper there: only its outline was left (a 9's filled loop a ring, a 6 its top
    stroke). What the outline encloses, as dark as the pen, is ink. Measured on these 120 bold
    digits with paper around them: 95 read right, 87 with the filling switched off."""
    rng = np.random.default_rng(10)
    images = []
    for image in mnist.x_test[1000:1120]:
        wide = np.asarray(Image.fromarray(image).filter(ImageFilter.MaxFilter(5)))
        side = int(rng.choice([112, 200]))
        big = np.asarray(Image.fromarray(255 - wide).resize((side, side), Image.Resampling.BICUBIC))
        images.append(Image.fromarray(np.pad(big, int(rng.integers(5, 40)), constant_values=255)))
    filled = share_read(reader.read_all(images), mnist.y_test[1000:1120])
    monkeypatch.setattr(preprocessing, "_fill_wide_strokes", lambda gray, ink, background: False)
    outlined = share_read(reader.read_all(images), mnist.y_test[1000:1120])
    assert filled >= 0.75 and filled >= outlined + 4 / 120, (filled, outlined)
