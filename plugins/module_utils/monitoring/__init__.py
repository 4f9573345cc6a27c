# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Monitoring: what nodes publish for Prometheus (targets) and the scrape jobs made from it."""
