"""evalcore dashboard: the frame shared by every page (config, data source, navigation)."""

from pathlib import Path

import streamlit as st

from dashboard import links, sidebar, thresholds, timing
from dashboard.widgets import DATASET_KEY

# a local file: an emoji or Material icon favicon is fetched from the internet
FAVICON = str(Path(__file__).resolve().parent / "dashboard" / "favicon.png")
st.set_page_config(page_title="evalcore", page_icon=FAVICON, layout="wide")

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/table:", url_path="overview",
            default=True),
    st.Page("views/curves.py", title="Curves", icon=":material/show_chart:", url_path="curves"),
    st.Page("views/thresholds.py", title="Thresholds", icon=":material/tune:",
            url_path="thresholds"),
    st.Page("views/accuracy.py", title="Accuracy explained", icon=":material/school:",
            url_path="accuracy"),
    st.Page("views/calibration.py", title="Calibration", icon=":material/balance:",
            url_path="calibration"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:",
            url_path="compare"),
]

page = st.navigation(PAGES)
links.capture()
status = st.empty()  # what is being read or predicted, in the main panel
with timing.phase("script: sidebar (data source)"):
    data = sidebar.data_source(status)
sidebar.main_notice(data)
links.missing_notice()
thresholds.init(data)
st.session_state[DATASET_KEY] = data
with timing.phase(f"script: {page.title} page"):
    page.run()
links.sync(data)
