"""List model of search results (moments) with asynchronously filled thumbnails, and its card delegate."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from vsearch.timefmt import span
from vsearch.types import Moment
from vsearch.ui.qtcompat import emit

MomentRole = Qt.ItemDataRole.UserRole + 1
ScoreRole = Qt.ItemDataRole.UserRole + 2
FolderRole = Qt.ItemDataRole.UserRole + 3
SpanRole = Qt.ItemDataRole.UserRole + 4
ThumbnailKeyRole = Qt.ItemDataRole.UserRole + 5
WhyRole = Qt.ItemDataRole.UserRole + 6  # why it matched: the quoted spoken line, or "visual"
MissingRole = Qt.ItemDataRole.UserRole + 7  # the file was not found at the last scan (Locate… finds it)
#: The card's near-duplicates: +N for a card with N folded into it, -1 for a row shown from an opened group.
SimilarRole = Qt.ItemDataRole.UserRole + 8

_Index = QModelIndex | QPersistentModelIndex

#: Colour of speech matches: the spoken line on a card, speech spans on the player's heat strip.
SPEECH_COLOUR = "#5fd3a0"
#: Colour of on-screen text matches: "on screen: 'EXIT'" on a card, the matched box in the player.
SCREEN_TEXT_COLOUR = "#f2b84b"


def fmt_span(m: Moment) -> str:
    """The moment's span as cards, tooltips and the player show it (``0:04.0 – 0:10.0``)."""
    return span(m.start, m.end)


def why_line(m: Moment, fm: QFontMetrics, width: int) -> str:
    """:attr:`Moment.reason <vsearch.types.Moment.reason>` fitted to *width* pixels: the spoken line is elided inside its quotes."""
    full = m.reason
    if fm.horizontalAdvance(full) <= width or not (m.text and "speech" in m.source):
        return fm.elidedText(full, Qt.TextElideMode.ElideRight, width)
    suffix = full[full.rindex("\u201d") + 1 :]  # " + visual" for a moment both experts found
    room = width - fm.horizontalAdvance("\u201c\u201d" + suffix)
    inner = fm.elidedText(" ".join(m.text.split()), Qt.TextElideMode.ElideRight, max(0, room))
    return (
        f"\u201c{inner}\u201d{suffix}" if inner else fm.elidedText(full, Qt.TextElideMode.ElideRight, width)
    )


def similar_text(similar: int) -> str:
    """The near-duplicates badge: ``+2 similar`` on a group's card, ``similar`` on its other rows."""
    return f"+{similar} similar" if similar > 0 else "similar"


def thumb_key(m: Moment) -> tuple[str, float]:
    """The key a thumbnail is cached under in the model (one per video and frame time)."""
    return (m.path, round(float(m.best_time), 2))


class ResultsModel(QAbstractListModel):
    """The current query's moments, ranked; one row per moment.

    The model holds values only: moments come from Service.search (run elsewhere) and
    thumbnails arrive later as QImage (made off the GUI thread) through :meth:`set_thumbnail`.
    A result set is tagged with the query's generation; :meth:`set_results` ignores older
    generations so a slow, stale search can never replace a newer one.

    Signals:
        thumbnailsWanted(list): keys ``(path, time)`` of rows that have no thumbnail yet.
    """

    thumbnailsWanted = Signal(list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._moments: list[Moment] = []
        self._thumbs: dict[tuple[str, float], QPixmap] = {}
        self._generation = -1
        self._query = ""
        self._drag_file: tuple[tuple[Moment, ...], Path] | None = None
        self._members: set[Moment] = set()  # rows shown from an opened group of near-duplicates

    # --- Qt API ----------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._moments)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._moments) or index.column() != 0:
            return None
        m = self._moments[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{os.path.basename(m.path)}  {fmt_span(m)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            gone = "\nmissing: not found at the last scan (right-click: Locate…)" if m.missing else ""
            return f"{m.path}\n{fmt_span(m)}  ·  score {m.score:.3f}\nmatched: {m.reason}{gone}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbs.get(thumb_key(m))
        if role == MomentRole:
            return m
        if role == ScoreRole:
            return float(m.score)
        if role == FolderRole:
            return os.path.dirname(m.path)
        if role == SpanRole:
            return fmt_span(m)
        if role == ThumbnailKeyRole:
            return thumb_key(m)
        if role == SimilarRole:
            return -1 if m in self._members else len(m.similar)
        if role == WhyRole:
            return m.reason
        if role == MissingRole:
            return m.missing
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
                | Qt.ItemFlag.ItemIsDragEnabled)  # fmt: skip

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return ["text/uri-list", "text/plain"]

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        """Dragged results: the video files, the FCPXML of exactly these moments, their timestamps.

        A file manager copies the videos, an editor imports them, or the FCPXML (when
        :meth:`set_drag_file` has one for these moments) as a timeline of the moments.
        """
        moments = [self._moments[i.row()] for i in sorted(indexes, key=lambda i: i.row())
                   if i.isValid() and 0 <= i.row() < len(self._moments)]  # fmt: skip
        data = QMimeData()
        urls: list[QUrl] = []
        for m in moments:
            url = QUrl.fromLocalFile(m.path)
            if url not in urls:
                urls.append(url)
        drag = self._drag_file
        if drag is not None and drag[0] == tuple(moments) and drag[1].exists():
            urls.append(QUrl.fromLocalFile(str(drag[1])))
        data.setUrls(urls)
        data.setText("\n".join(f"{m.path}\t{m.start:.3f}\t{m.end:.3f}" for m in moments))
        return data

    def set_drag_file(self, moments: Sequence[Moment], path: Path) -> None:
        """The timeline file (FCPXML) written for exactly *moments*: a drag of them carries it too."""
        self._drag_file = (tuple(moments), Path(path))

    def drag_file(self) -> tuple[tuple[Moment, ...], Path] | None:
        return self._drag_file

    def roleNames(self) -> dict[int, QByteArray]:  # noqa: N802
        names = dict(super().roleNames())
        names.update({role: QByteArray(name) for role, name in ((MomentRole, b"moment"), (ScoreRole, b"score"),
                      (FolderRole, b"folder"), (SpanRole, b"span"), (WhyRole, b"why"), (MissingRole, b"missing"))})  # fmt: skip
        return names

    # --- values ----------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    @property
    def query(self) -> str:
        return self._query

    def moments(self) -> list[Moment]:
        return list(self._moments)

    def moment(self, row: int) -> Moment:
        return self._moments[row]

    def set_results(self, moments: Sequence[Moment], generation: int | None = None, query: str = "") -> bool:
        """Replace the rows; returns False (and changes nothing) for a stale generation."""
        if generation is not None:
            if generation < self._generation:
                return False
            self._generation = generation
        self.beginResetModel()
        self._moments = list(moments)
        self._members = set()
        self._query = query
        self.endResetModel()
        self._want_thumbnails(self._moments)
        return True

    def is_open(self, row: int) -> bool:
        """Whether the near-duplicates folded into result *row* are shown below it."""
        m = self._moments[row]
        return bool(m.similar) and row + 1 < len(self._moments) and self._moments[row + 1] in self._members

    def toggle_similar(self, row: int) -> bool:
        """Show (or hide again) the near-duplicates folded into result *row*, right below it.

        Returns:
            True when they are shown now, False when hidden (or the row has none).
        """
        m = self._moments[row]
        if not m.similar:
            return False
        if self.is_open(row):
            self.beginRemoveRows(QModelIndex(), row + 1, row + len(m.similar))
            del self._moments[row + 1 : row + 1 + len(m.similar)]
            self._members.difference_update(m.similar)
            self.endRemoveRows()
            return False
        self.beginInsertRows(QModelIndex(), row + 1, row + len(m.similar))
        self._moments[row + 1 : row + 1] = list(m.similar)
        self._members.update(m.similar)
        self.endInsertRows()
        self._want_thumbnails(m.similar)
        return True

    def _want_thumbnails(self, moments: Sequence[Moment]) -> None:
        missing = []
        seen = set()
        for m in moments:
            k = thumb_key(m)
            if k not in self._thumbs and k not in seen:
                seen.add(k)
                missing.append(k)
        if missing:
            emit(self.thumbnailsWanted, missing)

    def replace_moment(self, old: Moment, new: Moment) -> int:
        """Put *new* in place of *old* (a moment trimmed in the player); its row, or -1 if not shown."""
        for row, m in enumerate(self._moments):
            if m == old:
                self._moments[row] = new
                idx = self.index(row, 0)
                emit(self.dataChanged, idx, idx)
                return row
        return -1

    def clear(self) -> None:
        self.beginResetModel()
        self._moments = []
        self._query = ""
        self.endResetModel()

    def has_thumbnail(self, key: tuple[str, float]) -> bool:
        return key in self._thumbs

    def set_thumbnail(self, key: tuple[str, float], image: QImage) -> None:
        """Store a thumbnail made off the GUI thread (converted to QPixmap here, on the GUI thread)."""
        if image is None or image.isNull():
            return
        if len(self._thumbs) > 600:  # a long session must not grow without bound (~200 MB at most)
            self._thumbs.clear()
        self._thumbs[key] = QPixmap.fromImage(image)
        for row, m in enumerate(self._moments):
            if thumb_key(m) == key:
                idx = self.index(row, 0)
                emit(self.dataChanged, idx, idx, [Qt.ItemDataRole.DecorationRole])


class MomentDelegate(QStyledItemDelegate):
    """Paints a result as a card: thumbnail, file name, folder, time span and a score bar.

    In a QListView in IconMode it draws a grid card (thumbnail on top); in ListMode a row
    (thumbnail on the left).
    """

    THUMB = QSize(184, 104)
    ROW_THUMB = QSize(128, 72)
    #: The narrowest a grid card gets: the grid takes as many columns as fit at this width.
    MIN_CARD = 172

    def _grid(self, option: QStyleOptionViewItem) -> bool:
        view = option.widget
        return isinstance(view, QListView) and view.viewMode() == QListView.ViewMode.IconMode

    @staticmethod
    def similar_badge_rect(thumb: QRectF, fm: QFontMetrics, similar: int) -> QRectF:
        """Where the "+N similar" badge sits on a card's thumbnail (top right; "Missing" is top left)."""
        w = fm.horizontalAdvance(similar_text(similar)) + 12
        return QRectF(thumb.right() - 4 - w, thumb.top() + 4, w, fm.height() + 4)

    def thumb_rect(self, option: QStyleOptionViewItem) -> QRectF:
        """Where the thumbnail of the card in *option.rect* is drawn."""
        r = QRectF(option.rect).adjusted(4, 4, -4, -4)
        if self._grid(option):
            return QRectF(r.left() + 4, r.top() + 4, r.width() - 8, (r.width() - 8) * 9 / 16)
        return QRectF(r.left() + 4, r.top() + 2, self.ROW_THUMB.width(), r.height() - 4)

    def similar_badge_at(self, option: QStyleOptionViewItem, index: _Index, pos: QPointF) -> bool:
        """Whether *pos* (view coordinates) is on the card's "+N similar" badge."""
        similar = int(index.data(SimilarRole) or 0)
        if similar <= 0:
            return False
        font = QFont(option.font)
        font.setPointSizeF(max(7.0, option.font.pointSizeF() - 1))
        return self.similar_badge_rect(self.thumb_rect(option), QFontMetrics(font), similar).contains(pos)

    def card_width(self, view: QListView) -> int:
        """Cards share the viewport's width: as many columns as fit at :data:`MIN_CARD` pixels."""
        spacing = view.spacing()
        # the view's layout keeps room for a vertical scroll bar (QListViewPrivate::prepareItemsLayout),
        # whether or not one shows: without it, a last column that fits wraps to the next row
        bar = 0 if view.verticalScrollBar().isVisible() else view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        avail = max(1, view.viewport().width() - bar - 2)
        cols = max(1, avail // (self.MIN_CARD + 2 * spacing))
        return max(self.MIN_CARD, avail // cols - 2 * spacing)

    def _text_height(self, option: QStyleOptionViewItem) -> int:
        """Height of the card's text block: title, folder, why it matched, score bar."""
        title = QFont(option.font)
        title.setBold(True)
        body = QFontMetrics(option.font).height()
        return QFontMetrics(title).height() + 2 + body + 3 + body + 4 + body

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802
        text_h = self._text_height(option)
        if self._grid(option):
            assert isinstance(option.widget, QListView)  # what _grid checked
            w = self.card_width(option.widget)
            return QSize(w, (w - 16) * 9 // 16 + text_h + 28)
        return QSize(320, max(self.ROW_THUMB.height() + 12, text_h + 20))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        m: Moment | None = index.data(MomentRole)
        if m is None:
            return super().paint(painter, option, index)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = option.palette
        r = QRectF(option.rect).adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        bg = pal.color(pal.ColorRole.Base).lighter(135 if hover else 118)
        if selected:
            bg = pal.color(pal.ColorRole.Highlight)
            bg.setAlpha(110)
        path = QPainterPath()
        path.addRoundedRect(r, 8, 8)
        painter.fillPath(path, bg)
        if selected:
            painter.setPen(pal.color(pal.ColorRole.Highlight))
            painter.drawPath(path)

        grid = self._grid(option)
        if grid:
            thumb_rect = QRectF(r.left() + 4, r.top() + 4, r.width() - 8, (r.width() - 8) * 9 / 16)
            text_rect = QRectF(
                r.left() + 8, thumb_rect.bottom() + 6, r.width() - 16, r.bottom() - thumb_rect.bottom() - 8
            )
        else:
            thumb_rect = QRectF(r.left() + 4, r.top() + 2, self.ROW_THUMB.width(), r.height() - 4)
            text_rect = QRectF(
                thumb_rect.right() + 12, r.top() + 4, r.right() - thumb_rect.right() - 18, r.height() - 8
            )

        # thumbnail (letterboxed) or placeholder
        clip = QPainterPath()
        clip.addRoundedRect(thumb_rect, 6, 6)
        painter.save()
        painter.setClipPath(clip)
        painter.fillRect(thumb_rect, QColor("#0d1017"))
        pix: QPixmap | None = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pix, QPixmap) and not pix.isNull():
            scaled = pix.size().scaled(
                thumb_rect.size().toSize(), Qt.AspectRatioMode.KeepAspectRatioByExpanding
            )
            target = QRectF(0, 0, scaled.width(), scaled.height())
            target.moveCenter(thumb_rect.center())
            painter.drawPixmap(target, pix, QRectF(pix.rect()))
        else:
            painter.setPen(QColor("#5a6275"))
            painter.drawText(thumb_rect, Qt.AlignmentFlag.AlignCenter, "…")
        # near-duplicates: "+2 similar" (click to show them), or "similar" on a row shown from a group
        similar = int(index.data(SimilarRole) or 0)
        if similar:
            badge_font = QFont(option.font)
            badge_font.setPointSizeF(max(7.0, option.font.pointSizeF() - 1))
            painter.setFont(badge_font)
            srect = self.similar_badge_rect(thumb_rect, QFontMetrics(badge_font), similar)
            spath = QPainterPath()
            spath.addRoundedRect(srect, 4, 4)
            painter.fillPath(spath, QColor(76, 141, 255, 220) if similar > 0 else QColor(0, 0, 0, 150))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(srect, Qt.AlignmentFlag.AlignCenter, similar_text(similar))
        # time badge on the thumbnail
        badge_font = QFont(option.font)
        badge_font.setPointSizeF(max(7.0, option.font.pointSizeF() - 1))
        painter.setFont(badge_font)
        fm = QFontMetrics(badge_font)
        badge = fmt_span(m)
        bw, bh = fm.horizontalAdvance(badge) + 10, fm.height() + 2
        brect = QRectF(thumb_rect.right() - bw - 4, thumb_rect.bottom() - bh - 4, bw, bh)
        bpath = QPainterPath()
        bpath.addRoundedRect(brect, 4, 4)
        painter.fillPath(bpath, QColor(0, 0, 0, 170))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(brect, Qt.AlignmentFlag.AlignCenter, badge)
        if m.missing:  # the file is gone: say so on the card, where the eye goes first
            mw = fm.horizontalAdvance("Missing") + 10
            mrect = QRectF(thumb_rect.left() + 4, thumb_rect.top() + 4, mw, bh)
            mpath = QPainterPath()
            mpath.addRoundedRect(mrect, 4, 4)
            painter.fillPath(mpath, QColor(190, 40, 40, 220))
            painter.drawText(mrect, Qt.AlignmentFlag.AlignCenter, "Missing")
        painter.restore()

        # text
        title_font = QFont(option.font)
        title_font.setBold(True)
        fm_title = QFontMetrics(title_font)
        fm_body = QFontMetrics(option.font)
        text_colour = pal.color(pal.ColorRole.HighlightedText if selected else pal.ColorRole.Text)
        dim = QColor(text_colour)
        dim.setAlpha(150)
        y = text_rect.top()
        painter.setFont(title_font)
        painter.setPen(text_colour)
        name = os.path.basename(m.path)
        painter.drawText(
            QRectF(text_rect.left(), y, text_rect.width(), fm_title.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_title.elidedText(name, Qt.TextElideMode.ElideMiddle, int(text_rect.width())),
        )
        y += fm_title.height() + 2
        painter.setFont(option.font)
        painter.setPen(dim)
        folder = os.path.dirname(m.path)
        line2 = folder if grid else f"{folder}"
        painter.drawText(
            QRectF(text_rect.left(), y, text_rect.width(), fm_body.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_body.elidedText(line2, Qt.TextElideMode.ElideLeft, int(text_rect.width())),
        )
        y += fm_body.height() + 3
        # why it matched: the spoken line (quoted, elided inside the quotes), the on-screen text
        # ("on screen: 'EXIT'") or "visual"
        spoken = bool(m.text and "speech" in m.source)
        shown = bool(m.screen_text and "text" in m.source.split("+"))
        why_font = QFont(option.font)
        why_font.setItalic(spoken)
        fm_why = QFontMetrics(why_font)
        painter.setFont(why_font)
        accent = QColor(SPEECH_COLOUR if spoken else SCREEN_TEXT_COLOUR)
        if bg.lightness() > 150:  # a light palette: the same hue, dark enough to read
            accent = accent.darker(170)
        marked = spoken or shown
        painter.setPen(accent if marked and not selected else (text_colour if marked else dim))
        painter.drawText(
            QRectF(text_rect.left(), y, text_rect.width(), fm_body.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            why_line(m, fm_why, int(text_rect.width())),
        )
        painter.setFont(option.font)
        y += fm_body.height() + 4
        # score bar + number (+ span in list mode)
        score_txt = f"{m.score:.3f}"
        if not grid:
            score_txt = f"{fmt_span(m)}   ·   {score_txt}"
        sw = fm_body.horizontalAdvance(score_txt)
        bar_w = max(20.0, text_rect.width() - sw - 10)
        bar = QRectF(text_rect.left(), y + fm_body.height() / 2 - 2, bar_w, 4)
        top = float(index.model().data(index.model().index(0, 0), ScoreRole) or 1.0) if index.model() else 1.0
        frac = 0.0 if top <= 0 else max(0.05, min(1.0, m.score / top))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 35))
        painter.drawRoundedRect(bar, 2, 2)
        painter.setBrush(QColor("#4c8dff"))
        painter.drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * frac, bar.height()), 2, 2)
        painter.setPen(dim)
        painter.drawText(
            QRect(int(bar.right() + 8), int(y), int(sw + 2), fm_body.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            score_txt,
        )
        painter.restore()
        return None
