"""Static HTML report pages (`codesign report <model>|--all`)."""
