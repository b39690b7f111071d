"""evalcore dashboard (placeholder until the dashboard issue): the frame of the app."""

import streamlit as st

st.set_page_config(page_title="evalcore", layout="wide")
st.title("evalcore")
st.write("The dashboard arrives with the dashboard issue; the engine and CLI work today.")
