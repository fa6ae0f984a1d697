"""Every sentence of the studio in English and Simplified Chinese, and how a page switches between them.

Static text (labels, buttons, help) goes through gr.I18n: the browser translates it by its own
language and re-translates it when the locale changes. Text a handler writes (statuses, reports)
is formatted here in the page's language, which the `language` switch holds and every handler
receives. The switch changes Gradio's own locale from the browser (SWITCH_JS): the same call
Gradio's settings panel makes, reached through the frontend's core module; the choice is kept in
the browser's localStorage. Two things the browser does not re-translate are handled from Python:
the titles of tabs not opened yet, and (a Gradio quirk) a component whose first value was a
translation key gets that value back when the locale changes, so components that handlers
rewrite start empty. Gradio's own words inside components already shown ("Drop File Here")
stay in the language the page was opened in.
"""
from __future__ import annotations

import html
import re

import gradio as gr

from ..knobs import HELP

LANGUAGES = [("English", "en"), ("中文", "zh-CN")]

STRINGS: dict[str, tuple[str, str]] = {
    # --- the page ---
    "app_title": ("## Text classifier studio\nTeach a model to sort texts into your own categories: "
                  "**1 Data** → **2 Model** → **3 Train** → **4 Evaluate** → **5 Playground**.",
                  "## 文本分类工作室\n教模型把文本分到你自己的类别里："
                  "**1 数据** → **2 模型** → **3 训练** → **4 评估** → **5 试用**。"),
    "language": ("Language", "语言"),
    "tab_data": ("1 · Data", "1 · 数据"),
    "tab_model": ("2 · Model", "2 · 模型"),
    "tab_train": ("3 · Train", "3 · 训练"),
    "tab_evaluate": ("4 · Evaluate", "4 · 评估"),
    "tab_playground": ("5 · Playground", "5 · 试用"),
    "tab_runs": ("Runs", "训练记录"),

    # --- sharing a demo ---
    "share_intro": ("**Share a demo** of the selected run: a separate page where visitors can only classify text and say "
                    "whether the answer was right. They cannot upload files, train or see your other runs.",
                    "**分享演示**所选的训练记录：一个单独的页面，访问者只能分类文本并反馈结果是否正确，"
                    "不能上传文件、训练，也看不到你的其他训练记录。"),
    "share_public": ("Create a public link too (needs internet)", "同时创建公开链接（需要联网）"),
    "share_button": ("Share demo", "分享演示"),
    "share_stop": ("Stop sharing", "停止分享"),
    "share_running": ("🟢 **Demo running.** Local link (this computer): {url}", "🟢 **演示运行中。**本机链接：{url}"),
    "share_public_link": ("Public link (anyone who has it can classify text and leave feedback; it lasts up to a week): {url}",
                          "公开链接（任何拿到链接的人都能分类文本并留下反馈；最长有效一周）：{url}"),
    "share_pending": ("The public link is still being created; press Share demo again in a moment to see it.",
                      "公开链接仍在创建中；稍后再按一次“分享演示”即可看到。"),
    "share_starting": ("⏳ Starting the demo...", "⏳ 正在启动演示……"),
    "share_pick": ("⛔ Pick a run to share first.", "⛔ 请先选择要分享的训练记录。"),

    # --- the public demo page (studio/ui/demo.py): what a visitor reads ---
    "demo_default_title": ("# Text classifier", "# 文本分类器"),
    "demo_intro": ("Type a text and the model tells you which label fits it best.",
                   "输入一段文本，模型会告诉你哪个标签最符合它。"),
    "demo_creating_link": ("Creating the public link...", "正在创建公开链接……"),
    "demo_text": ("Text", "文本"),
    "demo_placeholder": ("Type or paste a text here", "在这里输入或粘贴文本"),
    "demo_classify": ("Classify", "分类"),
    "demo_examples": ("Examples (click one)", "示例（点击一条）"),
    "demo_probabilities": ("Probabilities", "各标签的概率"),
    "demo_percent_note": ("The percentage is the model's own probability for each label (all labels add up to 100%); "
                          "it is not how often the model is right.",
                          "百分比是模型对每个标签给出的概率（所有标签加起来是 100%），不是模型答对的比例。"),
    "demo_was_right": ("Was this right?", "结果对吗？"),
    "demo_right": ("Yes, right", "对，正确"),
    "demo_wrong": ("No, wrong", "不对，错了"),
    "demo_correct": ("If wrong, the right label (optional)", "如果错了，正确的标签是（可选）"),
    "demo_send": ("Send feedback", "提交反馈"),
    "demo_about": ("About this model", "关于这个模型"),
    "demo_result": ("**{label}** ({confidence} sure). Was this right?", "**{label}**（把握 {confidence}）。结果对吗？"),
    "demo_guess": ("With {n} labels, a blind guess would be about {guess}.", "共有 {n} 个标签，盲猜约为 {guess}。"),
    "demo_too_many": ("Too many requests: this demo answers {limit} texts a minute per visitor. Wait a minute and try "
                      "again.", "请求太多：这个演示每位访问者每分钟最多回答 {limit} 条文本。请等一分钟再试。"),
    "demo_type_text": ("Type some text to classify.", "请输入要分类的文本。"),
    "demo_failed": ("The model could not classify this text: {error}", "模型无法分类这段文本：{error}"),
    "demo_too_many_answers": ("Too many answers from you in a minute; wait a moment and try again.",
                              "你一分钟内提交的反馈太多了；请稍等片刻再试。"),
    "demo_classify_first": ("Classify a text first, then say whether the answer was right.",
                            "请先分类一段文本，再说明结果是否正确。"),
    "demo_choose_verdict": ("Choose whether the answer was right or wrong.", "请选择结果是对还是错。"),
    "demo_not_a_label": ("{label} is not one of this model's labels.", "{label} 不是这个模型的标签。"),
    "demo_feedback_full": ("This demo has collected as much feedback as it can keep; thank you.",
                           "这个演示收集的反馈已达上限，无法再保存；谢谢你。"),
    "demo_thanks": ("Thank you, your answer was recorded.", "谢谢，你的反馈已记录。"),

    # --- the demo's examples, compare, export, push, tracking (studio/ui/compare.py, export_controls.py) ---
    "share_examples": ("Examples for visitors (optional, one a line)", "给访问者的示例（可选，每行一条）"),
    "share_examples_info": ("Texts you write here appear on the demo page to click; the page shows nothing of your "
                            "data otherwise.", "在这里写的文本会显示在演示页面上供点击；除此之外页面不会显示你的任何数据。"),
    "compare_title": ("Compare runs", "比较训练记录"),
    "compare_runs": ("Runs to compare", "要比较的训练记录"),
    "compare_runs_info": ("Two or more finished runs; the first is the reference the others are set against.",
                          "两个或更多已完成的训练记录；第一个作为参照，其他的与它比较。"),
    "compare_button": ("Compare", "比较"),
    "compare_pick": ("Pick two or more finished runs to compare.", "请选择两个或更多已完成的训练记录进行比较。"),
    "compare_scores": ("Test scores and F1 per label (Δ: the difference from the first run)",
                       "测试得分和每个标签的 F1（Δ：与第一个训练记录的差）"),
    "compare_curves": ("Loss and validation macro-F1, run by run", "各训练记录的损失和验证宏平均 F1"),
    "compare_settings": ("Settings (highlighted: what differs)", "设置（高亮：不同之处）"),
    "compare_examples": ("Texts fixed and broken against the first run", "相对第一个训练记录改对和答错的文本"),
    "compare_setting": ("Setting", "设置"),
    "compare_score": ("Score", "得分"),
    "compare_accuracy": ("Accuracy", "准确率"),
    "compare_macro_f1": ("Macro-F1", "宏平均 F1"),
    "compare_weighted_f1": ("Weighted F1", "加权 F1"),
    "compare_train_loss": ("training loss", "训练损失"),
    "compare_validation_loss": ("validation loss", "验证损失"),
    "compare_validation_macro_f1": ("validation macro-F1", "验证宏平均 F1"),
    "compare_step": ("Optimizer step", "优化步数"),
    "compare_no_curves": ("These runs recorded no curves.", "这些训练记录没有曲线。"),
    "compare_run": ("Run", "训练记录"),
    "compare_change": ("Change", "变化"),
    "compare_text": ("Text", "文本"),
    "compare_fixed_short": ("fixed", "改对"),
    "compare_broke_short": ("broke", "答错"),
    "export_title": ("Export, publish, track", "导出、发布、跟踪"),
    "export_int8": ("int8 weights too", "同时导出 int8 权重"),
    "export_int8_info": ("About 4x smaller and faster on a CPU; answers nearly always the same (see BENCHMARKS.md).",
                         "在 CPU 上约小 4 倍、更快；答案几乎总是相同（见 BENCHMARKS.md）。"),
    "export_button": ("Export to ONNX", "导出为 ONNX"),
    "export_done": ("✅ Wrote {path} ({mb} MB) in {seconds} s. The Playground, batch classification and the demo now "
                    "serve from it.", "✅ 已写入 {path}（{mb} MB），用时 {seconds} 秒。试用、批量分类和演示现在都使用它。"),
    "export_int8_done": ("✅ Wrote {path} ({mb} MB, int8 weights).", "✅ 已写入 {path}（{mb} MB，int8 权重）。"),
    "push_repo": ("Hugging Face repository", "Hugging Face 仓库"),
    "push_token": ("Token with write access (optional if you logged in)", "有写权限的令牌（已登录则可不填）"),
    "push_public": ("Public", "公开"),
    "push_button": ("Push to the Hub", "推送到 Hub"),
    "push_need_repo": ("⛔ Name the repository first, e.g. your-name/support-tickets.",
                       "⛔ 请先填写仓库名，例如 your-name/support-tickets。"),
    "push_done": ("✅ Uploaded the model and its card to {url}", "✅ 已把模型和模型卡上传到 {url}"),
    "mlflow_button": ("Send this run to MLflow", "把这个训练记录发送到 MLflow"),
    "mlflow_done": ("✅ Run {run} is in MLflow at {uri}; see it with: mlflow ui --backend-store-uri {uri}",
                    "✅ 训练记录 {run} 已写入 MLflow（{uri}）；查看：mlflow ui --backend-store-uri {uri}"),

    # --- data ---
    "data_intro": ("Give the studio a table with one column of **texts** and one column of **labels** "
                   "(the category each text belongs to), e.g. a spreadsheet of support tickets and their topics. "
                   "It checks the table and tells you what could go wrong before any training.",
                   "上传一个表格：一列是**文本**，一列是**标签**（每条文本所属的类别），例如客服工单和它们的主题。"
                   "工作室会先检查表格，在训练之前告诉你可能出现的问题。"),
    "data_upload": ("Your table (CSV, TSV, TXT, Excel .xlsx or JSON lines)", "你的表格（CSV、TSV、TXT、Excel .xlsx 或 JSON lines）"),
    "data_sample_hint": ("No data at hand? Try the studio's sample: 368 customer-support messages in 6 categories.",
                         "手头没有数据？试试自带的示例：368 条客服消息，分为 6 个类别。"),
    "data_sample": ("Try the sample data", "使用示例数据"),
    "data_waiting": ("Upload a table or press **Try the sample data** to begin.", "上传表格，或点击**使用示例数据**开始。"),
    "data_text_column": ("Text column", "文本列"),
    "data_text_column_info": ("The column the model reads.", "模型要读的那一列。"),
    "data_label_column": ("Label column", "标签列"),
    "data_label_column_info": ("The column with the answer the model should learn to give.", "模型要学会给出的答案所在的列。"),
    "data_preview": ("The first rows of the table", "表格的前几行"),
    "data_distribution": ("Examples per label", "每个标签的样本数"),
    "data_no_labels_yet": ("The count of each label appears here.", "这里会显示每个标签的数量。"),
    "data_extra_files": ("Optional: separate validation and test files", "可选：单独的验证集和测试集文件"),
    "data_extra_files_info": ("Without them the studio sets aside part of your table: some rows to check progress "
                              "during training (validation) and some to grade the finished model (test). "
                              "Give your own files if you already have fixed splits.",
                              "如果不提供，工作室会从你的表格中留出一部分：一些行用于训练过程中检查进度（验证集），"
                              "一些行用于给训练好的模型打分（测试集）。如果你已有固定的划分，可以在这里上传。"),
    "data_validation_file": ("Validation file", "验证集文件"),
    "data_test_file": ("Test file", "测试集文件"),
    "data_summary": ("**{name}**: {rows:,} rows, {labels} labels. Texts from column **{text}**, labels from column "
                     "**{label}**.", "**{name}**：{rows:,} 行，{labels} 个标签。文本取自 **{text}** 列，标签取自 **{label}** 列。"),
    "data_no_problems": ("No problems found.", "没有发现问题。"),
    "data_fix_errors": ("⛔ Fix the errors above before training (or pick other columns).",
                        "⛔ 训练前请先修正上面的错误（或选择其他列）。"),
    "data_ready_with_warnings": ("✅ Ready to train; the warnings above may cost accuracy. Next: **2 · Model**.",
                                 "✅ 可以训练了；上面的警告可能会影响准确率。下一步：**2 · 模型**。"),
    "data_ready": ("✅ No problems found: ready to train. Next: **2 · Model**.", "✅ 没有发现问题，可以训练了。下一步：**2 · 模型**。"),
    "data_split": ("**How the data will be used:** {split}", "**数据将这样使用**： {split}"),
    "data_split_sizes": ("{train} rows for training, {validation} for validation, {test} for testing.",
                         "{train} 行用于训练，{validation} 行用于验证，{test} 行用于测试。"),
    "severity_error": ("Error", "错误"),
    "severity_warning": ("Warning", "警告"),
    "severity_info": ("Note", "提示"),

    # --- model ---
    "model_intro": ("Training starts from a **base model** that already understands language, and teaches it your "
                    "labels. The defaults work well; change them only if you have a reason.",
                    "训练会从一个已经懂语言的**基础模型**开始，再教它学会你的标签。默认设置通常就很好，除非有理由，否则无需修改。"),
    "model_choice": ("Base model", "基础模型"),
    "model_choice_info": ("Pick from the list, or type a Hugging Face model id or a model folder on this machine.",
                          "从列表中选择，或输入 Hugging Face 模型 ID 或本机上的模型文件夹。"),
    "model_catalog_note": ("**{size}M parameters · {languages}.** {note}", "**{size}M 参数 · {languages}。** {note}"),
    "model_custom_note": ("A model of your own: it must be a text model saved with safetensors weights.",
                          "自选模型：必须是以 safetensors 格式保存权重的文本模型。"),
    "model_note_all-MiniLM-L6-v2": ("Small and fast; ships with the studio and works offline.", "小而快；随工作室附带，可离线使用。"),
    "model_note_distilbert-base-uncased": ("Half of BERT's layers, nearly its accuracy.", "BERT 一半的层数，准确率接近 BERT。"),
    "model_note_bert-base-uncased": ("The classic English BERT.", "经典的英文 BERT。"),
    "model_note_roberta-base": ("Often a little more accurate than BERT on English.", "在英文上通常比 BERT 略准。"),
    "model_note_bert-base-chinese": ("For Chinese text.", "用于中文文本。"),
    "model_note_bert-base-multilingual-cased": ("Mixed-language data, Chinese and English together.", "适合中英文混合的数据。"),
    "model_note_xlm-roberta-base": ("The strongest multilingual choice here; slower.", "这里最强的多语言模型；速度较慢。"),
    "model_unknown_tokens": ("⚠️ **This model does not know the language of your data**: its vocabulary maps {share} "
                             "of the words to \"unknown\", so it will learn little. {advice}",
                             "⚠️ **这个模型不懂你数据的语言**：它的词表把 {share} 的词映射为“未知”，因此几乎学不到东西。{advice}"),
    "model_unknown_cjk": ("Pick a Chinese or multilingual model such as bert-base-chinese or xlm-roberta-base.",
                          "请选择中文或多语言模型，例如 bert-base-chinese 或 xlm-roberta-base。"),
    "model_unknown_other": ("Pick a multilingual model such as xlm-roberta-base, or a model made for this language.",
                            "请选择多语言模型（如 xlm-roberta-base）或专为该语言训练的模型。"),
    "method": ("How much of the model to train", "训练模型的哪些部分"),
    "method_info": ("Not sure? Keep Auto. The lines below say when each choice fits.",
                    "拿不准就选“自动”。下面说明了每种方式适合什么情况。"),
    "method_help": ("- **Auto (recommended):** the studio looks at how many examples and labels your data has when "
                    "training starts, and either trains the whole model or, when there is little data, only the new "
                    "output layer. It says which it chose and why.\n"
                    "- **Full fine-tuning:** every layer learns your labels (the word-embedding table stays as "
                    "pretrained). Usually the most accurate once you have a few hundred examples; the slowest.\n"
                    "- **Freeze bottom layers:** the bottom layers stay as pretrained, the rest learns. Faster and "
                    "lighter; at the maximum only the output layer trains, which suits very small data sets.\n"
                    "- **LoRA:** trains small add-on matrices instead of the model's own weights. For large models or "
                    "when memory runs short.",
                    "- **自动（推荐）**：训练开始时，工作室根据数据的样本数和标签数来决定：训练整个模型，"
                    "或者在数据很少时只训练新的输出层。它会说明选了哪种方式以及原因。\n"
                    "- **全部微调**：所有层都学习你的标签（词向量表保持预训练的值）。样本达到几百条时通常最准确，也最慢。\n"
                    "- **冻结底层**：底部若干层保持预训练的值，其余各层学习。更快、更省资源；设为最大值时只训练输出层，"
                    "适合很小的数据集。\n"
                    "- **LoRA**：只训练附加的小矩阵，不改动模型自身的权重。适合大模型或内存不够的时候。"),
    "method_auto": ("Auto (recommended)", "自动（推荐）"),
    "method_auto_short": ("Auto", "自动"),
    "method_full": ("Full fine-tuning", "全部微调"),
    "method_freeze": ("Freeze bottom layers", "冻结底层"),
    "method_lora": ("LoRA", "LoRA"),
    "method_head_only": ("Head only", "仅训练输出层"),
    "method_frozen": ("{n} layers frozen", "冻结 {n} 层"),
    "freeze_depth": ("Layers to freeze", "冻结的层数"),
    "freeze_depth_info": (HELP["freeze_layers"], "用于“冻结底层”：保持不变的底层数量；设为最大值时只训练新的输出层。"),
    "lora_rank": ("LoRA rank", "LoRA 秩"),
    "lora_rank_info": (HELP["lora_r"], "用于 LoRA：代替模型自身权重参与训练的小附加矩阵的大小；越大学得越多，也越占内存。8 是不错的起点。"),
    "model_trainable": ("**Trainable parameters: {trainable} of {total} ({share})**",
                        "**可训练参数**：{total} 个中的 {trainable} 个（{share}）"),
    "model_trainable_auto": ("Counted for full fine-tuning: with Auto, the method is chosen from your data when "
                             "training starts.", "按全部微调计算：选“自动”时，训练开始时才根据数据决定训练方式。"),
    "model_trainable_full": ("Every layer trains; the rest is the word-embedding table, kept as pretrained.",
                             "所有层都会训练；其余的是词向量表，保持预训练的值。"),
    "preset": ("Preset", "预设"),
    "preset_quick": ("Quick", "快速"),
    "preset_balanced": ("Balanced", "均衡"),
    "preset_best": ("Best", "最佳"),
    "preset_quick_note": ("**Quick:** a first model in a few minutes: 3 passes over the data.",
                          "**快速**：几分钟得到第一个模型：把数据过 3 遍。"),
    "preset_balanced_note": ("**Balanced:** the default: up to 6 passes, stops early when validation stops improving.",
                             "**均衡**：默认选项：最多过 6 遍，验证结果不再提升时提前停止。"),
    "preset_best_note": ("**Best:** the longest training for the last points of accuracy: up to 12 passes.",
                         "**最佳**：训练最久，争取最后几个点的准确率：最多过 12 遍。"),
    "advanced": ("Advanced settings (filled in by the preset)", "高级设置（由预设自动填写）"),
    "learning_rate": ("Learning rate", "学习率"),
    "learning_rate_info": (HELP["learning_rate"],
                           "每一步修正的幅度。太高：训练会来回震荡；太低：进展缓慢。"),
    "epochs": ("Epochs", "轮数"),
    "epochs_info": (HELP["epochs"], "模型把全部训练数据读几遍。"),
    "batch_size": ("Batch size", "批大小"),
    "batch_size_info": (HELP["batch_size"], "每一步处理的文本数。内存不够时调小。"),
    "max_length": ("Max length (tokens)", "最大长度（词元）"),
    "max_length_info": (HELP["max_length"], "文本超过这么多词元（token，一个词或词的一部分）就会被截断。越长越费时间和内存。"),
    "max_length_hint": ("Half of your texts are within {p50} tokens and 95% within {p95}; max length was set to {suggested}.",
                        "一半的文本在 {p50} 个词元以内，95% 在 {p95} 个以内；最大长度已设为 {suggested}。"),
    "warmup": ("Warm-up share", "预热比例"),
    "warmup_info": (HELP["warmup_ratio"], "训练开始时逐步提高学习率所占的比例，让最初几步不至于破坏模型已有的知识。"),
    "weight_decay": ("Weight decay", "权重衰减"),
    "weight_decay_info": (HELP["weight_decay"], "每一步都把权重轻轻拉向零，防止模型死记训练数据。"),
    "patience": ("Early-stopping patience", "提前停止的耐心"),
    "patience_info": (HELP["patience"],
                      "连续这么多次检查没有提升就停止（0：从不提前停止）。"),
    "evals_per_epoch": ("Checks per epoch", "每轮检查次数"),
    "evals_per_epoch_info": (HELP["evals_per_epoch"], "每读完一遍数据，在验证集上检查几次；提前停止按这些检查计数。"),
    "class_weights": ("Class weights", "类别权重"),
    "class_weights_info": (HELP["class_weights"],
                           "当某些标签的样本少得多时，更重视在稀有标签上的错误。"),
    "seed": ("Random seed", "随机种子"),
    "seed_info": (HELP["seed"], "相同的种子得到相同的划分和结果。"),
    "estimate_needs_data": ("The time and memory estimate appears once data is loaded.", "加载数据后，这里会显示时间和内存的估计。"),
    "estimate": ("⏱️ **Estimate (rough): about {time}** on {device} for {rows} training rows × {epochs} "
                 "(about {speed} texts per second), using about {memory} GB of memory. Early stopping can make it shorter.",
                 "⏱️ **估计（粗略）**：约 **{time}**，设备：{device}，{rows} 行训练数据 × {epochs}"
                 "（约每秒 {speed} 条文本），约占 {memory} GB 内存。提前停止可能让它更短。"),

    "one_epoch": ("{n} epoch", "{n} 轮"),
    "epochs_count": ("{n} epochs", "{n} 轮"),

    # --- train ---
    "train_intro": ("Press **Start training**. Training runs on the server: you can close this page and come back; "
                    "it re-attaches to the run. The curves update every second.",
                    "点击**开始训练**。训练在服务器上进行：你可以关闭页面稍后再回来，页面会重新连上这次训练。曲线每秒更新。"),
    "run_name": ("Name of this run (optional)", "本次训练的名称（可选）"),
    "run_name_placeholder": ("e.g. first try with the sample data", "例如：用示例数据第一次尝试"),
    "train_start": ("▶ Start training", "▶ 开始训练"),
    "train_stop": ("■ Stop", "■ 停止"),
    "start_need_data": ("⛔ Load a data file in **1 · Data** first.", "⛔ 请先在 **1 · 数据** 中加载数据文件。"),
    "start_data_errors": ("⛔ The data has a problem to fix first: {problem}", "⛔ 数据有问题需要先修正：{problem}"),
    "start_started": ("Started run **{run}**.", "已开始训练 **{run}**。"),
    "start_queued": ("⏳ Another run is training on this device, so run **{run}** is queued: it starts by itself "
                     "when the {ahead} run(s) ahead of it end. Only one run trains at a time.",
                     "⏳ 这台设备上正有其他训练在进行，所以 **{run}** 已排队：前面的 {ahead} 个训练结束后会自动开始。"
                     "同一时间只训练一个。"),
    "stop_requested": ("Stopping: the run ends before its next step; no model is saved.",
                       "正在停止：训练会在下一步之前结束，不会保存模型。"),
    "stop_nothing": ("The run shown is not training, so there is nothing to stop.", "当前显示的训练没有在进行，无需停止。"),
    "status_none": ("No run yet. Load data, then press **Start training**.", "还没有训练。加载数据后点击**开始训练**。"),
    "status_run": ("run {run}", "训练 {run}"),
    "status_queued": ("Waiting for the run ahead of it to finish; it starts by itself.", "等待前面的训练结束，之后会自动开始。"),
    "status_preparing": ("Reading the data and loading the model…", "正在读取数据并加载模型……"),
    "status_running": ("Training. The curves below fill in as it learns.", "正在训练。下面的曲线会随着学习逐渐画出。"),
    "status_finished": ("It classified **{accuracy}** of the test examples correctly (macro-F1 {f1}). "
                        "See **4 · Evaluate**, then try it in **5 · Playground**.",
                        "它正确分类了 **{accuracy}** 的测试样本（宏平均 F1 {f1}）。请查看 **4 · 评估**，再到 **5 · 试用** 里试试。"),
    "status_cancelled": ("Stopped before the end; no model was saved. Start again to train a model.",
                         "在结束前被停止，没有保存模型。重新开始即可训练模型。"),
    "status_interrupted": ("The studio stopped while this run was in progress; start it again.",
                           "这次训练进行中时工作室停止了；请重新开始。"),
    "status_unknown": ("", ""),
    "state_queued": ("Queued", "排队中"),
    "state_running": ("Training", "训练中"),
    "state_finished": ("Finished", "已完成"),
    "state_failed": ("Failed", "失败"),
    "state_cancelled": ("Stopped", "已停止"),
    "state_interrupted": ("Interrupted", "已中断"),
    "state_unknown": ("Unknown", "未知"),
    "progress_running": ("Epoch {epoch} of {epochs} · step {step} of {steps} · {speed} texts/s · about {eta} left",
                         "第 {epoch} / {epochs} 轮 · 第 {step} / {steps} 步 · 每秒 {speed} 条 · 约剩 {eta}"),
    "progress_preparing": ("Preparing…", "准备中……"),
    "progress_finished": ("Done in {duration}.", "用时 {duration}。"),
    "progress_queued": ("Waiting in the queue.", "排队等待中。"),
    "progress_failed": ("Training failed; the reason is above.", "训练失败，原因见上方。"),
    "progress_cancelled": ("Stopped.", "已停止。"),
    "progress_interrupted": ("Interrupted.", "已中断。"),
    "device_line": ("**Device:** {device} · {train} training rows, {validation} validation, {test} test · {labels} "
                    "· {trainable} of {total} parameters trained",
                    "**设备**：{device} · 训练 {train} 行，验证 {validation} 行，测试 {test} 行 · {labels} "
                    "· 训练 {total} 个参数中的 {trainable} 个"),
    "loss_plot": ("Loss: how wrong the model still is", "损失：模型还错多少"),
    "metric_plot": ("Scores on the validation rows", "验证集上的得分"),
    "plots_explained": ("**Reading the curves:** the loss should go down. Accuracy is the share of validation texts "
                        "labelled right; macro-F1 averages the quality over labels, so rare labels count as much as "
                        "common ones. If validation loss rises while training loss keeps falling, the model is "
                        "memorising rather than learning; early stopping then keeps the best point (★).",
                        "**如何看曲线**：损失应该下降。准确率是验证文本被正确标注的比例；宏平均 F1 对每个标签的质量取平均，"
                        "稀有标签与常见标签同样重要。如果训练损失继续下降而验证损失上升，说明模型在死记硬背而不是学习；"
                        "提前停止会保留最好的那一点（★）。"),
    "train_log": ("Training log", "训练日志"),
    "log_started": ("Started on {device}: {train} training rows, {steps} steps of {batch} texts.",
                    "已在 {device} 上开始：{train} 行训练数据，{steps} 步，每步 {batch} 条。"),
    "log_step": ("step {step} · epoch {epoch} · loss {loss} · {speed} texts/s",
                 "第 {step} 步 · 第 {epoch} 轮 · 损失 {loss} · 每秒 {speed} 条"),
    "log_eval": ("validation at epoch {epoch}: loss {loss}, accuracy {accuracy}, macro-F1 {f1}",
                 "第 {epoch} 轮验证：损失 {loss}，准确率 {accuracy}，宏平均 F1 {f1}"),
    "log_best": ("(best so far)", "（目前最好）"),
    "log_eval_probe": ("first answer, the head fitted on the model's sentence vectors: validation loss {loss}, "
                       "accuracy {accuracy}, macro-F1 {f1}",
                       "第一个答案（在模型的句向量上拟合的分类头）：验证集损失 {loss}，准确率 {accuracy}，宏平均 F1 {f1}"),
    "status_best": ("Best on validation so far: {accuracy} right (epoch {epoch}).",
                    "目前验证集上最好的成绩：准确率 {accuracy}（第 {epoch} 轮）。"),
    "status_best_probe": ("First answer: {accuracy} right on validation, from a head fitted on the model's sentence "
                          "vectors in seconds; fine-tuning now tries to beat it, and the better one is kept.",
                          "第一个答案：验证集准确率 {accuracy}，来自几秒内在模型句向量上拟合的分类头；"
                          "接下来的微调会尝试超过它，最终保留更好的那个。"),
    "log_queued": ("Queued.", "已排队。"),
    "log_finished": ("Finished: test accuracy {accuracy}.", "完成：测试准确率 {accuracy}。"),
    "log_cancelled": ("Stopped.", "已停止。"),
    "log_interrupted": ("Interrupted.", "已中断。"),

    # --- evaluate ---
    "eval_intro": ("How the model shown in **3 · Train** does on the **test** rows: texts it never saw while training.",
                   "**3 · 训练** 中显示的模型在**测试集**上的表现：这些文本在训练时从未见过。"),
    "eval_header": ("### Results of {run}", "### {run} 的结果"),
    "eval_no_run": ("No run to show yet: train one in **3 · Train**, or open one in **Runs**.",
                    "还没有可显示的训练：请在 **3 · 训练** 中训练，或在 **训练记录** 中打开一个。"),
    "eval_not_ready": ("This run has no test results ({state}); they appear when training finishes.",
                       "这次训练还没有测试结果（{state}）；训练完成后会显示。"),
    "eval_summary": ("In short:", "简而言之："),
    "metric_accuracy": ("Accuracy", "准确率"),
    "metric_accuracy_info": ("test texts labelled right", "测试文本被正确标注的比例"),
    "metric_baseline": ("Always answering \"{label}\"", "总是回答“{label}”"),
    "metric_baseline_info": ("the accuracy to beat: the most common training label", "要超过的准确率：训练集中最常见的标签"),
    "metric_baseline_info_test": ("the accuracy to beat: the most common test label", "要超过的准确率：测试集中最常见的标签"),
    "metric_macro_f1": ("Macro-F1", "宏平均 F1"),
    "metric_macro_f1_info": ("0 to 1; every label counts equally", "0 到 1；每个标签同等重要"),
    "metric_weighted_f1": ("Weighted F1", "加权 F1"),
    "metric_weighted_f1_info": ("0 to 1; big labels count more", "0 到 1；样本多的标签权重大"),
    "metric_examples": ("Test texts", "测试文本数"),
    "metric_examples_info": ("never seen in training", "训练中从未见过"),
    "eval_per_class": ("Per label, worst first", "按标签，从差到好"),
    "eval_per_class_info": ("**Precision:** when the model says this label, how often it is right. **Recall:** of the "
                            "texts with this label, how many it finds. **F1** combines both. **Support:** test texts "
                            "with this label.",
                            "**精确率**：模型判为该标签时有多少是对的。**召回率**：带该标签的文本中找回了多少。"
                            "**F1** 综合两者。**样本数**：带该标签的测试文本数。"),
    "eval_confusion": ("Confusion matrix", "混淆矩阵"),
    "eval_confusion_info": ("Rows are the true labels, columns what the model said. The diagonal holds the right "
                            "answers; dark cells off it are the labels the model mixes up.",
                            "行是真实标签，列是模型给出的标签。对角线上是答对的；对角线外颜色深的格子是模型混淆的标签。"),
    "eval_confusion_empty": ("The confusion matrix appears when a run finishes.", "训练完成后会显示混淆矩阵。"),
    "eval_mistakes_title": ("### Mistakes, most confident first", "### 错误样本（最自信的错误在前）"),
    "eval_mistakes_note": ("{count} test texts were labelled wrong; the first {shown} are listed. Confident mistakes "
                           "often point at wrong labels in the data.",
                           "有 {count} 个测试文本被标错；下面列出前 {shown} 个。很自信的错误往往说明数据里的标签本身有误。"),
    "eval_no_mistakes": ("No mistakes on the test texts.", "测试文本上没有错误。"),
    "col_label": ("Label", "标签"),
    "col_precision": ("Precision", "精确率"),
    "col_recall": ("Recall", "召回率"),
    "col_f1": ("F1", "F1"),
    "col_support": ("Support", "样本数"),
    "col_text": ("Text", "文本"),
    "col_true": ("True label", "真实标签"),
    "col_predicted": ("Model said", "模型判断"),
    "col_confidence": ("Confidence", "置信度"),

    # --- playground ---
    "play_intro": ("Try a trained model: type a text and press **Classify** (or Enter), or classify a whole file.",
                   "试用训练好的模型：输入文本并点击**分类**（或按回车），也可以对整个文件分类。"),
    "play_run": ("Model (a finished run)", "模型（已完成的训练）"),
    "play_run_info": ("The newest finished run is picked for you.", "默认选择最新完成的训练。"),
    "play_text": ("Text to classify", "要分类的文本"),
    "play_text_placeholder": ("Type or paste a text, then press Enter", "输入或粘贴文本，然后按回车"),
    "play_classify": ("Classify", "分类"),
    "play_examples": ("Examples from the run's test data (click one)", "来自测试数据的例子（点击试用）"),
    "play_output": ("Predicted label and the probability of each label", "预测的标签和每个标签的概率"),
    "play_pick_run": ("Pick a finished run first (train one in **3 · Train**).", "请先选择一个已完成的训练（在 **3 · 训练** 中训练）。"),
    "play_type_text": ("Type some text to classify.", "请输入要分类的文本。"),
    "play_no_model": ("⛔ This run has no saved model; pick a finished run.", "⛔ 这次训练没有保存模型；请选择一个已完成的训练。"),
    "play_failed": ("⛔ The model could not classify this ({error}).", "⛔ 模型无法完成分类（{error}）。"),
    "play_result": ("**{label}** ({confidence} sure).", "**{label}**（把握 {confidence}）。"),
    "play_file_title": ("Classify a whole file", "对整个文件分类"),
    "play_file_info": ("Upload a table; you get it back with two more columns: `predicted_label` and `confidence`.",
                       "上传一个表格，返回的文件会多出两列：`predicted_label`（预测标签）和 `confidence`（置信度）。"),
    "play_file": ("Table to classify", "要分类的表格"),
    "play_download": ("Classified table", "分类后的表格"),
    "play_file_done": ("Classified {rows} rows of column **{column}**; download the file above.",
                       "已对 **{column}** 列的 {rows} 行分类；请下载上方的文件。"),

    # --- runs ---
    "runs_intro": ("Every training run of this studio. Click a row (or pick its id), then open it, download its model, "
                   "or delete it.", "这个工作室的所有训练。点击一行（或选择编号），然后打开、下载模型或删除。"),
    "runs_selected": ("Run", "训练"),
    "runs_selected_info": ("Click a row of the table to pick it.", "点击表格中的一行即可选中。"),
    "runs_refresh": ("↻ Refresh", "↻ 刷新"),
    "runs_open": ("Open (curves, evaluation, playground)", "打开（曲线、评估、试用）"),
    "runs_zip": ("Download its model (.zip)", "下载模型（.zip）"),
    "runs_delete": ("Delete…", "删除……"),
    "runs_confirm_delete": ("Yes, delete it", "确定删除"),
    "runs_cancel_delete": ("Keep it", "保留"),
    "runs_confirm_question": ("Delete run **{run}** with its model and results? This cannot be undone.",
                              "删除训练 **{run}** 及其模型和结果？此操作无法撤销。"),
    "runs_download": ("Model download", "模型下载"),
    "runs_pick": ("Pick a run first: click its row in the table.", "请先选择一个训练：点击表格中的那一行。"),
    "runs_no_model": ("Run {run} has no saved model (only finished runs do).", "训练 {run} 没有保存模型（只有已完成的训练才有）。"),
    "runs_zip_ready": ("The zip holds the folder **{folder}**; unzip it and load it with "
                       "`transformers.pipeline(\"text-classification\", model=\"{folder}\")`.",
                       "压缩包里是文件夹 **{folder}**；解压后可用 "
                       "`transformers.pipeline(\"text-classification\", model=\"{folder}\")` 加载。"),
    "runs_delete_active": ("⛔ This run is still training or queued; stop it in **3 · Train** before deleting it.",
                           "⛔ 这次训练仍在进行或排队中；请先在 **3 · 训练** 中停止，再删除。"),
    "runs_deleted": ("Deleted run {run}.", "已删除训练 {run}。"),
    "runs_opened": ("Opened run **{run}**: see **3 · Train**, **4 · Evaluate** and **5 · Playground**.",
                    "已打开训练 **{run}**：请查看 **3 · 训练**、**4 · 评估** 和 **5 · 试用**。"),
    "col_run": ("Run", "训练编号"),
    "col_name": ("Name", "名称"),
    "col_state": ("Status", "状态"),
    "col_model": ("Base model", "基础模型"),
    "col_method": ("Method", "方法"),
    "col_data": ("Data", "数据"),
    "col_best_validation": ("Best val. F1", "最佳验证 F1"),
    "col_test_accuracy": ("Test acc.", "测试准确率"),
    "col_duration": ("Time", "用时"),

    # --- charts ---
    "plot_epoch": ("Epoch", "轮次"),
    "plot_loss": ("Loss (lower is better)", "损失（越低越好）"),
    "plot_training_loss": ("Training loss", "训练损失"),
    "plot_validation_loss": ("Validation loss", "验证损失"),
    "plot_score": ("Score (higher is better)", "得分（越高越好）"),
    "plot_accuracy": ("Accuracy", "准确率"),
    "plot_macro_f1": ("Macro-F1", "宏平均 F1"),
    "plot_examples": ("Examples", "样本数"),
    "plot_true": ("True label", "真实标签"),
    "plot_predicted": ("Predicted label", "预测标签"),
    "plot_probability": ("Probability", "概率"),
    "plot_no_curves": ("The curves appear here once training starts.", "训练开始后这里会出现曲线。"),
    "plot_no_scores": ("Validation scores appear after the first evaluation.", "第一次验证之后这里会出现得分。"),

    # --- durations ---
    "seconds": ("{s} s", "{s} 秒"),
    "minutes": ("{m} min {s} s", "{m} 分 {s} 秒"),
    "hours": ("{h} h {m} min", "{h} 小时 {m} 分"),
}

# --- model availability, stop and resume, the run shown, explanations, data controls ---
STRINGS.update({
    "avail_bundled": ("✅ ships with the studio", "✅ 随工作室附带"),
    "avail_folder": ("✅ folder on this machine", "✅ 本机文件夹"),
    "avail_cached": ("✅ downloaded before, on this machine", "✅ 已下载到本机"),
    "avail_hub": ("☁️ downloads when first used", "☁️ 首次使用时下载"),
    "avail_offline": ("⛔ not on this machine, no internet", "⛔ 本机没有，且无法联网"),
    "avail_missing_folder": ("⛔ no such folder", "⛔ 文件夹不存在"),
    "avail_not_a_model": ("⛔ not a usable model folder", "⛔ 不是可用的模型文件夹"),
    "model_label": ("{model} ({size}M, {languages}) · {state}", "{model}（{size}M，{languages}）· {state}"),
    "model_cannot_offline": ("{name} cannot be used right now: it is not on this machine and the model hub cannot be "
                             "reached (no internet). Connect to the internet once and pick it again (it is then kept "
                             "on this machine), or enter a model folder you have below.",
                             "{name} 现在无法使用：本机没有这个模型，也连不上模型库（没有网络）。请联网一次后重新选择它"
                             "（之后会保存在本机），或在下面填写你已有的模型文件夹。"),
    "model_cannot_missing_folder": ("There is no folder at {name} on this machine; check the path, or pick a model "
                                    "from the list.", "本机上没有 {name} 这个文件夹；请检查路径，或从列表中选择模型。"),
    "model_cannot_not_a_model": ("{name} is not a model folder the studio can load: it needs the config.json and "
                                 ".safetensors weights that save_pretrained writes.",
                                 "{name} 不是工作室能加载的模型文件夹：需要 save_pretrained 写出的 config.json 和 "
                                 ".safetensors 权重。"),
    "model_ready_bundled": ("✅ Ships with the studio: it can be used right now, offline too.",
                            "✅ 随工作室附带：现在就能用，离线也可以。"),
    "model_ready_folder": ("✅ A model folder on this machine: it can be used right now.",
                           "✅ 本机上的模型文件夹：现在就能用。"),
    "model_ready_cached": ("✅ Downloaded before and kept on this machine: it can be used right now, offline too.",
                           "✅ 之前已下载并保存在本机：现在就能用，离线也可以。"),
    "model_ready_hub": ("☁️ Not on this machine yet: it is downloaded from the Hugging Face model hub when training "
                        "starts (the hub can be reached now).",
                        "☁️ 本机还没有：开始训练时会从 Hugging Face 模型库下载（现在可以连上）。"),
    "model_cannot_read": ("⛔ **This model cannot read your data's language**: its vocabulary turns {share} of the "
                          "tokens into [UNK] (\"unknown\"), so it would learn next to nothing. {advice}",
                          "⛔ **这个模型读不懂你数据的语言**：它的词表把 {share} 的词元变成 [UNK]（“未知”），几乎学不到东西。"
                          "{advice}"),
    "model_pick_reader": ("Pick one that reads it and can be used now: {models}.",
                          "请选择一个能读懂它、现在就能用的模型：{models}。"),
    "model_no_reader": ("None of the Chinese or multilingual models is on this machine, and the model hub cannot be "
                        "reached. Connect to the internet once and pick bert-base-chinese (it is then kept on this "
                        "machine), or enter a folder holding a Chinese or multilingual model below.",
                        "本机上没有任何中文或多语言模型，也连不上模型库。请联网一次并选择 bert-base-chinese"
                        "（之后会保存在本机），或在下面填写一个存有中文或多语言模型的文件夹。"),
    "model_folder": ("Or a model folder on this machine", "或者：本机上的模型文件夹"),
    "model_folder_info": ("A folder written by save_pretrained (config.json, tokenizer and .safetensors weights).",
                          "由 save_pretrained 写出的文件夹（含 config.json、分词器和 .safetensors 权重）。"),
    "model_folder_use": ("Use this folder", "使用这个文件夹"),
    "model_folder_empty": ("Type the path of a model folder first.", "请先输入模型文件夹的路径。"),
    "model_folder_used": ("✅ Using the model in {folder}.", "✅ 已使用 {folder} 中的模型。"),
    "glossary_title": ("What the words mean", "这些词是什么意思"),
    "glossary": ("- **Token:** the piece of text a model reads at a time: a word, or part of a long word. "
                 "\"Max length\" counts tokens.\n"
                 "- **[UNK]:** the token a model uses for text its vocabulary does not contain. A model that turns "
                 "much of your text into [UNK] cannot read it (e.g. an English model on Chinese).\n"
                 "- **Epoch:** one pass over all training rows.\n"
                 "- **Learning rate:** how far each training step moves the model's weights.\n"
                 "- **Warm-up share:** the first part of training, where the learning rate rises slowly from zero.\n"
                 "- **Weight decay:** a small pull of every weight towards zero, against memorising the training rows.\n"
                 "- **LoRA rank:** the size of the small add-on matrices LoRA trains; 8 is plenty for most tasks.\n"
                 "- **Accuracy:** the share of texts labelled right.\n"
                 "- **Macro-F1:** a score from 0 to 1 that averages how well each label is found, so a rare label "
                 "counts as much as a common one; it exposes a model that ignores small labels.\n"
                 "- **\"(80% sure)\":** the model's own probability for the label it gives; the probabilities of all "
                 "labels add up to 100%. It is not the model's accuracy, and a model can be confidently wrong.",
                 "- **词元（token）**：模型每次读取的一小段文本：一个词，或长词的一部分。“最大长度”按词元计。\n"
                 "- **[UNK]**：模型用来表示词表里没有的文字的词元。把大量文字变成 [UNK] 的模型读不懂你的数据"
                 "（例如用英文模型读中文）。\n"
                 "- **轮（epoch）**：把全部训练数据读一遍。\n"
                 "- **学习率**：每一步训练对模型权重的改动幅度。\n"
                 "- **预热比例**：训练的开头部分，学习率从零慢慢升高。\n"
                 "- **权重衰减**：把每个权重轻轻拉向零，防止死记训练数据。\n"
                 "- **LoRA 秩**：LoRA 训练的小附加矩阵的大小；大多数任务用 8 就够了。\n"
                 "- **准确率**：文本被正确标注的比例。\n"
                 "- **宏平均 F1**：0 到 1 的分数，对每个标签被找出的程度取平均，稀有标签与常见标签同样重要；"
                 "它能揭示忽略小类别的模型。\n"
                 "- **“（把握 80%）”**：模型对所给标签的自身概率；所有标签的概率加起来是 100%。它不是模型的准确率，"
                 "模型也可能很有把握地答错。"),
    "estimate_calibrated": ("(Scaled by the speed this machine measured in its recent runs.)",
                            "（已按本机最近几次训练实测的速度校正。）"),
    "estimate_uncalibrated": ("(Before the first run on this machine; the first steps of a run correct it.)",
                              "（本机尚无训练记录；训练开始后会按前几步的实测速度校正。）"),
    "device_cpu": ("CPU ({threads} threads)", "CPU（{threads} 个线程）"),
    "device_gpu": ("GPU: {name}", "GPU：{name}"),
    "device_mps": ("Apple GPU (MPS)", "苹果 GPU（MPS）"),
    "one_label": ("1 label", "1 个标签"),
    "labels_count": ("{n} labels", "{n} 个标签"),
    "bad_learning_rate": ("The learning rate {value} cannot work; choose a number between 0.0000001 and 0.5, "
                          "e.g. 0.0001.", "学习率 {value} 不可用；请选择 0.0000001 到 0.5 之间的数，例如 0.0001。"),
    "bad_epochs": ("Epochs {value} cannot work; choose a number above 0, e.g. 3.", "轮数 {value} 不可用；请选择大于 0 的数，例如 3。"),
    "bad_batch_size": ("Batch size {value} cannot work; choose a whole number from 1, e.g. 32.",
                       "批大小 {value} 不可用；请选择不小于 1 的整数，例如 32。"),
    "bad_warmup": ("Warm-up share {value} cannot work; choose between 0 and 0.99, e.g. 0.06.",
                   "预热比例 {value} 不可用；请选择 0 到 0.99 之间的数，例如 0.06。"),
    "bad_weight_decay": ("Weight decay {value} cannot work; choose between 0 and 1, e.g. 0.01.",
                         "权重衰减 {value} 不可用；请选择 0 到 1 之间的数，例如 0.01。"),
    "bad_patience": ("Patience {value} cannot work; choose a whole number from 0.", "耐心值 {value} 不可用；请选择不小于 0 的整数。"),
    "bad_evals_per_epoch": ("Checks per epoch {value} cannot work; choose a whole number from 1.",
                            "每轮检查次数 {value} 不可用；请选择不小于 1 的整数。"),
    "start_unreadable": ("⛔ The chosen model cannot read your data's language ({share} of the tokens are [UNK]), so "
                         "training would learn next to nothing. {advice}",
                         "⛔ 所选模型读不懂你数据的语言（{share} 的词元是 [UNK]），训练几乎学不到东西。{advice}"),
    "start_already": ("Run **{run}** with these settings was just started; it is shown below.",
                      "刚刚已用这些设置开始了训练 **{run}**，下面显示的就是它。"),
    "train_shown_run": ("Run shown", "显示的训练"),
    "train_shown_run_info": ("The run these curves and the Evaluate tab belong to; pick another to look at it.",
                             "下面的曲线和评估页属于这次训练；选择其他训练即可查看。"),
    "train_stop_keep": ("■ Stop, keep the best model", "■ 停止并保留最好的模型"),
    "train_restart": ("↻ Start again with the same settings", "↻ 用相同设置重新开始"),
    "train_resume": ("▶ Resume", "▶ 继续训练"),
    "stop_keep_requested": ("Stopping: the best model so far is kept and graded on the test rows like a finished run.",
                            "正在停止：保留目前最好的模型，并像完成的训练一样在测试集上评分。"),
    "restart_active": ("This run is still in progress; stop it first.", "这次训练仍在进行；请先停止它。"),
    "restart_started": ("Started run **{run}** with the settings of {old}.", "已用 {old} 的设置开始训练 **{run}**。"),
    "resume_unavailable": ("This run cannot be resumed (it kept no checkpoint); start it again with the same settings.",
                           "这次训练无法继续（没有保存检查点）；请用相同设置重新开始。"),
    "resume_started": ("Resuming run **{run}** from its last checkpoint.", "正在从最后的检查点继续训练 **{run}**。"),
    "state_stopped": ("Stopped, best model kept", "已停止（保留了最好的模型）"),
    "status_stopped": ("Stopped by you; the best model so far was kept and graded on the test rows. See **4 · Evaluate**.",
                       "你停止了训练；保留了目前最好的模型并在测试集上评分。请查看 **4 · 评估**。"),
    "progress_stopped": ("Stopped after {duration}.", "在 {duration} 后停止。"),
    "log_stopped": ("Stopped; the best model so far was kept.", "已停止；保留了目前最好的模型。"),
    "runs_restart": ("↻ Start again with the same settings", "↻ 用相同设置重新开始"),
    "runs_resume": ("▶ Resume", "▶ 继续训练"),
    "runs_elapsed": ("{duration} so far", "已用 {duration}"),
    "play_confidence_explained": ("The percentage is the model's own probability for the label it gives (all labels "
                                  "add up to 100%); it is not its accuracy, which **4 · Evaluate** shows. With {n} "
                                  "labels, a blind guess would be about {guess}.",
                                  "百分比是模型对所给标签的自身概率（所有标签加起来是 100%），不是它的准确率"
                                  "（准确率见 **4 · 评估**）。共有 {n} 个标签时，盲猜约为 {guess}。"),
    "data_model_unusable": ("⛔ Not ready yet: the chosen model cannot be used on this machine. Pick another in "
                            "**2 · Model**.", "⛔ 还不能训练：所选模型在本机无法使用。请在 **2 · 模型** 中另选一个。"),
    "data_model_unreadable": ("⛔ Not ready yet: the chosen model cannot read this text ({share} of the tokens are "
                              "[UNK]). Pick a model for this language in **2 · Model**.",
                              "⛔ 还不能训练：所选模型读不懂这些文本（{share} 的词元是 [UNK]）。请在 **2 · 模型** 中"
                              "选择适合这种语言的模型。"),
    "data_encoding": ("Text encoding", "文本编码"),
    "data_encoding_info": (HELP["encoding"], "检测出的编码显示乱码时，在这里指定文件的编码（例如 Excel 导出的中文文件用 gb18030，"
                                             "西欧文字用 cp1252）。"),
    "data_encoding_auto": ("Detect", "自动检测"),
    "data_split_column": ("Split column", "划分列"),
    "data_split_column_info": (HELP["split_column"], "如果你的数据自带固定划分：用一列为每行写明 train、validation 或 test。"),
    "data_no_split_column": ("None: set rows aside at random", "无：随机留出"),
    "data_text_columns": ("More text columns to join", "要拼接的其他文本列"),
    "data_text_columns_info": ("Columns read after the text column, each on a new line (e.g. a title, then a "
                               "description).", "接在文本列后面一起读的列，每列另起一行（例如先标题，再描述）。"),
    "data_max_rows": ("Train on a sample (rows)", "用样本训练（行数）"),
    "data_max_rows_info": (HELP["max_rows"] + " 0: every row. The estimate in 2 · Model and 3 · Train follows it.",
                           "只用这么多行训练（各标签按比例保留），适合在大文件上快速试一试。0：使用全部行。"
                           "2 · 模型 和 3 · 训练 中的时间估计会随之改变。"),
    "data_label_names": ("Names for the labels (optional)", "标签的名称（可选）"),
    "data_label_names_info": ("Give a raw label value (such as 1 or 0) a name; the charts, the model and the demo "
                              "then use the name.", "为原始标签值（例如 1 或 0）起个名字；图表、模型和演示都会使用这个名字。"),
    "col_raw_label": ("In the file", "文件中的值"),
    "col_label_name": ("Name to use", "使用的名称"),
    "data_summary_one_label": ("**{name}**: {rows:,} rows, 1 label. Texts from column **{text}**, labels from column "
                               "**{label}**.", "**{name}**：{rows:,} 行，1 个标签。文本取自 **{text}** 列，标签取自 **{label}** 列。"),
    "unexpected_error": ("Something went wrong on the server ({error}); your data and runs are untouched. Try again, "
                         "or reload the page.", "服务器出了点问题（{error}）；你的数据和训练记录都没有受影响。请重试，或刷新页面。"),
})

# Notes a run writes to its log, in Chinese, matched by their English wording (the numbers carried over).
NOTES_ZH = [
    (r"The GPU ran out of memory; starting again with batch size (?P<batch>\d+)\.",
     "GPU 内存不足；改用批大小 {batch} 重新开始。"),
    (r"Computed the (?P<k>\d+) frozen layers once \((?P<mb>[\d.]+) MB, (?P<s>[\d.]+) s\); each epoch now trains only "
     r"the layers above them\.", "冻结的 {k} 层只计算了一次（{mb} MB，{s} 秒）；之后每轮只训练它们上面的层。"),
    (r"Not enough memory to keep the frozen layers' outputs; computing them every step instead\.",
     "内存不足以保存冻结层的输出；改为每一步重新计算。"),
    (r"Fitted the head by logistic regression on the model's sentence vectors in (?P<s>[\d.]+) s \(C=(?P<c>[^,)]+)"
     r"(?:, (?P<cv>[\d.]+%) right in 3-fold cross-validation)?\); that is the model\.",
     "在模型的句向量上用逻辑回归拟合了分类头，用时 {s} 秒（C={c}）；这就是最终模型。"),
    (r"Fitted the head by logistic regression on the model's sentence vectors in (?P<s>[\d.]+) s \(C=(?P<c>[^,)]+)"
     r"(?:, (?P<cv>[\d.]+%) right in 3-fold cross-validation)?\); fine-tuning starts from it\.",
     "在模型的句向量上用逻辑回归拟合了分类头，用时 {s} 秒（C={c}）；微调从它开始。"),
    (r"Stopped early at epoch (?P<epoch>[\d.]+): validation did not improve for (?P<n>\d+) evaluations\.",
     "在第 {epoch} 轮提前停止：验证结果连续 {n} 次没有提升。"),
    (r"Kept the fitted head, fitted again on the training and validation rows together\.",
     "保留了拟合的分类头，并在训练集和验证集上一起重新拟合。"),
    (r"Auto: most labels have too few rows to set any aside for validation, so only the head is fitted.*",
     "自动：大多数标签的行数太少，无法留出验证集，所以只在模型的句向量上拟合分类头（逻辑回归，强度由交叉验证选出）。"),
    (r"Auto: with about (?P<n>\d+) training rows per label, fine-tuning would mostly memorise them.*",
     "自动：每个标签约 {n} 行训练数据，微调大多只会死记它们，所以只在模型的句向量上拟合分类头（逻辑回归）。"),
    (r"Auto: full fine-tuning, starting from a head fitted by logistic regression on the model's sentence vectors"
     r"; with (?P<rows>[\d,]+) training rows, batch (?P<batch>\d+) and at least (?P<steps>\d+) optimizer steps\.",
     "自动：全部微调，从在句向量上用逻辑回归拟合的分类头开始；{rows} 行训练数据，批大小 {batch}，至少 {steps} 个优化步。"),
    (r"Auto: full fine-tuning, starting from a head fitted by logistic regression on the model's sentence vectors\.",
     "自动：全部微调，从在句向量上用逻辑回归拟合的分类头开始。"),
    (r"Trained without CUDA graphs \((?P<why>.*)\)\.", "未使用 CUDA 图训练（{why}）。"),
]

# What reading a file had to work around (the doctor's "read_note" findings), in Chinese, by their wording.
READ_NOTES_ZH = [
    (r"(?P<name>.+) is really an Excel workbook, so it was read as one\.", "{name} 其实是 Excel 工作簿，已按工作簿读取。"),
    (r"The first row looks like data rather than column names, so the columns are named column_1, column_2, \.\.\.",
     "第一行看起来是数据而不是列名，所以各列命名为 column_1、column_2……"),
    (r"Quote marks were read as ordinary characters, because the file does not use quoting\.",
     "文件没有使用引号包裹字段，所以引号按普通字符读取。"),
    (r"(?P<rows>[\d,]+) rows had text spilling into (?P<n>\d+) extra columns .*?joined back into '(?P<into>.*)' and "
     r"the extra columns dropped\.", "{rows} 行的文本溢出到 {n} 个多余的列（通常是没有转义的引号）；已拼回 '{into}' 列，"
                                     "并删除多余的列。"),
    (r"Dropped (?P<n>\d+) empty columns? without a name\.", "删除了 {n} 个没有名字的空列。"),
    (r"Removed stray byte-order marks \(invisible \\ufeff characters\) from the values\.",
     "删除了值中多余的字节顺序标记（不可见的 \\ufeff 字符）。"),
    (r"The workbook has (?P<n>\d+) sheets; only the first, '(?P<sheet>.*)', was read\.",
     "工作簿有 {n} 个工作表；只读取了第一个：'{sheet}'。"),
]


def read_note_text(message: str, lang: str) -> str:
    """A note on how a file was read, in the page's language (the reader's own words where none matches)."""
    if normalize(lang) != "zh-CN":
        return message
    for pattern, chinese in READ_NOTES_ZH:
        found = re.fullmatch(pattern, message.strip(), re.S)
        if found:
            return chinese.format(**{k: v or "" for k, v in found.groupdict().items()})
    return message


def note_text(event: dict, lang: str) -> str:
    """A note from a run's log in the page's language: by its code and details where it has them, else by its
    known English wording; an unknown note keeps the run's own words."""
    message = str(event.get("message", ""))
    if normalize(lang) != "zh-CN":
        return message
    code = event.get("code")
    if code and f"note_{code}" in STRINGS:
        try:
            return t(f"note_{code}", lang, **(event.get("details") or {}))
        except (KeyError, ValueError):
            pass
    for pattern, chinese in NOTES_ZH:
        found = re.fullmatch(pattern, message.strip(), re.S)
        if found:
            return chinese.format(**{k: v or "" for k, v in found.groupdict().items()})
    return message


# Characters that would turn into markup: emphasis, code, links, tables, strike-through; "_" only at a word's
# edge (inside a word, as in no_such_column, it is no emphasis); "<" and "&" are escaped as HTML before.
_MARKUP = re.compile(r"([\\`*\[\]|~]|(?<!\w)_|_(?!\w)|^#|^>)", re.M)


def plain(text) -> str:
    """User text (a label, a run name, a file name) for a Markdown or HTML component, shown as the characters it
    holds: "<b>" stays "<b>", a "<script>" label stays visible, "*" is no emphasis."""
    return _MARKUP.sub(r"\\\1", html.escape(str(text), quote=False))


def device_words(device: str, lang: str) -> str:
    """A device ("cpu", "cuda", or training's description such as "CPU (2 threads)") in the page's language."""
    device = str(device or "")
    cpu = re.fullmatch(r"CPU \((\d+) threads?\)", device)
    if device == "cpu" or cpu:
        if cpu:
            threads = cpu.group(1)
        else:
            import torch
            threads = torch.get_num_threads()
        return t("device_cpu", lang, threads=threads)
    if device.startswith("GPU: "):
        return t("device_gpu", lang, name=device[len("GPU: "):])
    if device == "cuda":
        import torch
        return t("device_gpu", lang, name=torch.cuda.get_device_name() if torch.cuda.is_available() else "CUDA")
    if device in ("mps", "Apple GPU (MPS)"):
        return t("device_mps", lang)
    return device

# Findings of the data doctor in Chinese, from the numbers the core attaches to each one (its `details`).
FINDINGS_ZH = {
    "duplicates": "{rows:,} 行与前面某一行的文本完全相同；重复数据可能同时进入训练集和测试集，使分数虚高——建议删除。",
    "conflicting_labels": "{texts:,} 条文本带有互相矛盾的标签；模型无法同时学会——请修正或删除它们。",
    "label_variants": "有些标签只在大小写或空格上不同（例如 {first}）；除非合并，否则会被当作不同的类别。",
    "single_class": "所有行的标签都相同；训练至少需要两个标签——请添加其他类别的样本。",
    "too_few_examples": "{count} 个类别的样本少于 3 个（{classes}），不足以分成训练、验证和测试集；请添加样本或合并类别。",
    "imbalance": "最大类别（{largest:,} 行）是最小类别（{smallest:,} 行）的 {ratio:.1f} 倍；可以开启类别权重，或为小类别添加样本。",
    "too_long": "{share:.1%} 的文本超过最大长度，会被截断（95% 的文本在 {p95} 个词元以内）；如果文本结尾很重要，请调大最大长度。",
    "unknown_tokens": "模型的词表把 {share:.0%} 的词元映射为 [UNK]（未知），几乎学不到东西；{advice}",
    "test_overlap": "测试文件中有 {texts:,} 条文本也出现在训练数据里，测试分数会偏高；请从其中一个文件中删除它们。",
    "empty_text": "{rows:,} 行的文本或标签为空，将被跳过。",
    "encoding": "文件按 {encoding} 而不是 UTF-8 读取；如果带重音或非拉丁字母显示不对，请选择其他编码或把文件另存为 UTF-8。",
}


# The findings added since (labels that mean "no label", invisible characters), from their details.
FINDINGS_ZH.update({
    "missing_labels": "{rows:,} 行的标签是{values}，表示没有标签，这些行将被跳过——如果它们应该计入，请补上标签。",
    "invisible_characters": "{count} 个标签含有不可见字符（{labels}）；这些字符已被删除，每个标签按它看上去的样子计数。",
    "unreadable": "无法读取该文件；请确认它是 CSV、TSV、Excel（.xlsx）或 JSON lines 文件。",
})
NO_EXAMPLES_ZH = "没有哪一行同时在“{text}”列有文本、在“{label}”列有标签；请检查选的列是否正确。"

# The data layer's errors (DataError.code, with its details) in Chinese; a dict holds one sentence per `variant`.
ERRORS_ZH = {
    "missing_file": "找不到文件 {path}；请检查文件名和文件夹。",
    "not_a_file": "{path} 是文件夹而不是文件；请选择其中的 CSV 或 Excel 文件。",
    "empty_file": "文件 {name} 是空的；请重新导出表格。",
    "too_large": {
        "file": "文件 {name} 大小为 {size}，超过了 {limit} 的上限；请上传更小的文件，或只上传部分行。",
        "unzipped": "{name} 解压后为 {size}，超过了工作室能读取的 {limit}；请只使用部分行。",
        "columns": "{name} 在第 {columns:,} 列仍有单元格，超出了表格最多 {limit:,} 列的限制；请只保留文本列和标签列后重新保存。",
        "row_fields": "{name} 的第 {row:,} 行有 {columns:,} 个字段，超出了表格最多 {limit:,} 列的限制；请检查该行（或分隔符）后重新导出表格。",
        "cells": "{name} 有 {rows:,} 行 × {columns:,} 列，超过了工作室能读取的 {limit:,} 个单元格；请只保留文本列和标签列，或只使用部分行。",
        "line": "{name} 中有一行长达 {size}，超过了每行 {limit} 的上限；请检查是否缺少换行符，然后重新导出表格。",
        "field": "{name} 无法作为表格读取（有一个字段超过 {limit}）；请检查其中的引号后重新导出。",
        "workbook": "{name} 解压后为 {size}，超过了工作簿 {limit} 的上限；请只保留文本列和标签列，或另存为 CSV。",
    },
    "file_kind": "{name} 不是工作室能读取的文件类型（{suffix}）；请上传 CSV、TSV、TXT、Excel（.xlsx）、JSON 或 JSON lines 文件，"
                 "或装有其中一个文件的 zip 压缩包。",
    "old_excel": "{name} 是旧版 Excel .xls 文件；请另存为 .xlsx 或 CSV 后上传。",
    "zip_archive": {"": "{name} 压缩包里的表格不是恰好一个（{tables}）；请解压后上传要训练的那个表格。",
                    "nested": "{name} 里还装着另一个压缩包；请把两层都解压，然后上传里面的表格。"},
    "binary_file": "{name} 不是文本表格（其中是二进制数据）；请上传 CSV、TSV、Excel（.xlsx）或 JSON lines 文件。",
    "wrong_encoding": {"": "文件不是 {encoding} 编码，它可以按 {actual} 解码——请把它另存为 UTF-8，或选择 {actual} 作为编码。",
                       "not_text": "文件不是 {encoding} 文本；请确认它是 CSV 或文本导出文件。"},
    "mixed_encodings": "{name} 混用了多种文本编码（并非每一行都能按 {encoding} 解码）；请用电子表格程序打开，另存为 UTF-8。",
    "unknown_encoding": "“{encoding}”不是 Python 认识的编码名称；请试试 utf-8、cp1252 或 gb18030。",
    "bad_delimiter": "分隔符必须是单个字符，例如 , ; | 或制表符，而不是“{delimiter}”。",
    "no_rows": {"": "{name} 中没有数据行；请重新导出表格。",
                "header_only": "文件只有列名，没有数据行；请添加数据行或检查导出设置。"},
    "open_quote": "第 {line} 行附近的引号没有闭合；请修正该行，或从电子表格程序重新导出文件。",
    "unparsable": "文件无法按分隔符“{delimiter}”读取为表格；请确认它是普通的 CSV 导出文件。",
    "ragged_rows": "文件各行的字段数相差悬殊；请检查分隔符。",
    "damaged_file": "Excel 文件 {name} 已损坏或不完整（{error}）；请在 Excel 中打开后重新保存，或导出为 CSV。",
    "invalid_json": {"": "{name} 不是有效的 JSON；请检查文件（是否缺少逗号或括号），或把表格另存为 CSV。",
                     "lines": "{name} 不是有效的 JSON lines（每行一个 JSON 对象）：第 {line:,} 行无法解析；请修正该行，或把表格另存为 CSV。",
                     "record": "{name} 的第 {record:,} 条记录不是带字段名的 JSON 对象；请每行给出一个对象，例如 "
                               "{{\"text\": \"...\", \"label\": \"...\"}}。"},
    "empty_sheet": "{name} 的第一个工作表（“{sheet}”）是空的；请把表格放在第一个工作表上。",
    "uncomputed_formulas": "{name} 的 {column} 列中的公式从未计算出结果（文件由程序生成，而不是用电子表格保存的）；"
                           "请在 Excel 或 LibreOffice 中打开后重新保存，或导出为 CSV。",
    "no_text_column": {"": "在{columns}中没有哪一列像是自由文本；请自己选择文本列。",
                       "missing": "没有名为“{column}”的列；现有的列是{columns}。",
                       "none_chosen": "请选择包含文本的列。"},
    "no_label_column": {"": "在{columns}中没有哪一列像是标签（在多行中重复出现的短值）；请自己选择标签列。",
                        "missing": "没有名为“{column}”的列；现有的列是{columns}。",
                        "one_column": "表格只有一列（{columns}）；需要一列文本和一列标签——请检查分隔符，或补上标签。"},
    "no_split_column": "没有名为“{column}”的列可用来划分数据；现有的列是{columns}。",
    "same_column": {"": "列“{column}”同时被选作文本和标签；请为其中之一另选一列。",
                    "twice": "列“{column}”被两次选作文本；每个文本列只需选一次。"},
    "unknown_label": "标签{labels}被起了名称，但“{column}”中没有这个标签（其中的标签是{present}）；请检查拼写，或删除这个名称。",
    "duplicate_label_name": "标签{labels}都会被叫作“{name}”；请给每个标签起一个自己的名称（未命名的标签保留原名）。",
    "split_count": "划分列有 {values:,} 个值，而数据有 {rows:,} 行；请每行给出一个划分值。",
    "unknown_split": "划分列中有{values}；请使用 train、validation（或 val、dev）或 test。",
    "no_train_split": "划分列中没有任何一行是 train；请把用来学习的行标为 train。",
    "no_examples": "没有同时带有文本和标签的样本可供训练；请检查所选的列。",
    "single_class": "训练至少需要两个标签，但每个样本的标签都是“{label}”；请添加其他类别的样本。",
    "unseen_labels": "标签{labels}出现在验证或测试数据中，却从未出现在训练数据中；请为它们添加训练样本，或删除这些行。",
    "nothing_left": "只有 {rows:,} 行可用，没有剩下的行可作{split}集；请添加数据（每个标签十行以上），或提供单独的{split}文件。",
}

# RunConfig.validate's refusals (ConfigError.code, with its details) in Chinese.
CONFIG_ZH = {
    "no_train_file": "请先选择训练文件。",
    "method": "训练方法必须是 {methods} 之一，而不是“{method}”。",
    "lora_rank": "LoRA 秩至少为 1（8 是不错的起点）。",
    "freeze_layers": "冻结的层数不能为负数。",
    "learning_rate": "学习率 {value} 超出范围；试试 1e-4。",
    "epochs": "至少要训练一个轮次的一部分（轮数必须大于 0）。",
    "batch_size": "批大小至少为 1。",
    "max_length": "最大长度 {value} 超出范围；请在 8 到 8192 个词元之间选择。",
    "warmup": "预热必须是训练过程中 0 到 1 之间的比例，例如 0.06。",
    "devices": "至少要在 1 个设备上训练（设备数必须为 1 或更多）。",
    "patience": "早停的耐心值不能为负数（0 表示关闭早停）。",
    "seed": "随机种子必须是 0 到 4294967295 之间的整数。",
    "split_shares": "验证集和测试集各自的比例都必须在数据的 0 到 0.5 之间。",
    "max_rows": "行数上限低于 10 就没有可学习的数据了；请调高行数上限。",
    "no_text_columns": "请至少选择一个文本列，或不指定文本列，让系统自动检测。",
    "unnamed_text_column": "文本列需要有名称；请从列表中选择列。",
    "text_column_twice": "列“{column}”被两次选作文本；每个文本列只需选一次。",
    "same_column": "列“{column}”同时被选作文本和标签；请为其中之一另选一列。",
    "label_names_shape": "标签名称要以“标签：名称”成对给出，例如 {{\"1\": \"World\"}}。",
    "empty_label_name": "请给标签“{label}”起个名称，或者不填，保留“{label}”。",
    "duplicate_label_name": "标签{labels}都被命名为“{name}”；请给每个标签起一个自己的名称。",
}

# A model that cannot be used (ModelError.code, with its details) in Chinese.
MODEL_ERRORS_ZH = {
    "no_config": "{source} 不是模型文件夹：其中没有 config.json。请选择 save_pretrained 写出的文件夹。",
    "pickle_weights": "{source} 只有 pickle 权重（.bin），加载时可能执行代码；工作室只加载 safetensors 权重。"
                      "请用 save_pretrained(safe_serialization=True) 转换。",
    "no_weights": "{source} 中没有模型权重（没有 .safetensors 文件）。",
    "no_safetensors": "{name} 没有提供 safetensors 权重；pickle 权重可能执行代码，所以工作室只加载 safetensors。请换一个模型。",
    "unreachable": "无法加载 {name}：它既不是本机上的模型文件夹，也无法从模型中心获取（是否离线？）。"
                   "请使用内置的 {default} 或本地文件夹。",
    "load_failed": "无法加载 {name}：{reason}。",
    "no_embeddings": "找不到 {kind} 的嵌入层；请对这个模型使用全量微调或 LoRA。",
    "no_layers": "找不到 {kind} 的各层；请对这个模型使用全量微调或 LoRA。",
    "unknown_method": "未知的训练方法“{method}”；请选择 full、freeze 或 lora。",
}

SPLITS_ZH = {"validation": "验证", "test": "测试", "train": "训练"}


def _zh_values(details: dict) -> dict:
    """Details ready for a Chinese sentence: lists as “a”、“b”, a tab as 制表符, a split by its Chinese name."""
    values = {}
    for key, value in details.items():
        if isinstance(value, (list, tuple)):
            shown = "、".join(f"“{x}”" for x in list(value)[:10])
            value = shown + (f" 等 {len(value)} 个" if len(value) > 10 else "")
        elif key == "delimiter" and value == "\t":
            value = "制表符"
        elif key == "split":
            value = SPLITS_ZH.get(value, value)
        values[key] = value
    return values


def _zh_template(table: dict, code, details: dict) -> str | None:
    template = table.get(code)
    if isinstance(template, dict):
        template = template.get(details.get("variant", ""))
    return template


def coded_text(table: dict, code, details: dict | None, english: str, lang: str) -> str:
    """The Chinese sentence for `code` filled from `details`, or the `english` one where there is none."""
    if normalize(lang) != "zh-CN":
        return english
    details = dict(details or {})
    template = _zh_template(table, code, details)
    if template is None:
        return english
    try:
        return template.format(**_zh_values(details))
    except (KeyError, ValueError, IndexError):
        return english


def error_text(err: Exception, lang: str) -> str:
    """A DataError, ConfigError or ModelError in the page's language (its English sentence where no translation
    fits)."""
    from ..config import ConfigError
    from ..models import ModelError
    table = CONFIG_ZH if isinstance(err, ConfigError) else MODEL_ERRORS_ZH if isinstance(err, ModelError) else ERRORS_ZH
    return coded_text(table, getattr(err, "code", None), getattr(err, "details", None), str(err), lang)


LANGUAGE_NAMES_ZH = {"English": "英语", "Chinese": "中文", "104 languages": "104 种语言", "100 languages": "100 种语言"}


def language_name(name: str, lang: str) -> str:
    """A catalog entry's languages ("English", "104 languages") in the page's language."""
    return LANGUAGE_NAMES_ZH.get(name, name) if normalize(lang) == "zh-CN" else name


def normalize(lang: str | None) -> str:
    return "zh-CN" if str(lang or "").lower().startswith("zh") else "en"


def t(key: str, lang: str | None = "en", **values) -> str:
    """The string for `key` in `lang`, with `values` filled in."""
    english, chinese = STRINGS[key]
    text = chinese if normalize(lang) == "zh-CN" else english
    return text.format(**values) if values else text


def finding_text(finding: dict, lang: str) -> str:
    """A data-doctor finding in the page's language (the core's own sentence where no translation fits)."""
    if finding["code"] == "read_note":
        return read_note_text(finding["message"], lang)
    details = finding.get("details") or {}
    if normalize(lang) == "zh-CN" and (details.get("error") or finding["code"] not in FINDINGS_ZH):
        # a DataError the doctor passed on: its own code and values
        code = details.get("error") or finding["code"]
        if _zh_template(ERRORS_ZH, code, details) is not None:
            return coded_text(ERRORS_ZH, code, details, finding["message"], lang)
    template = FINDINGS_ZH.get(finding["code"]) if normalize(lang) == "zh-CN" else None
    if template is None:
        return finding["message"]
    d = dict(finding.get("details") or {})
    if finding["code"] == "empty_text" and finding["severity"] == "error":
        template = NO_EXAMPLES_ZH
    if finding["code"] == "label_variants":
        d["first"] = " / ".join(map(str, (d.get("groups") or [["?"]])[0]))
    if finding["code"] == "too_few_examples":
        classes = d.get("classes") or []
        d["classes"], d["count"] = "、".join(map(str, classes[:5])), len(classes)
    if finding["code"] == "unknown_tokens":
        d["advice"] = t("model_unknown_cjk" if d.get("cjk") else "model_unknown_other", lang)
    if finding["code"] in ("missing_labels", "invisible_characters"):
        d["count"] = len(d.get("labels") or [])
        d = {**d, **_zh_values({k: d[k] for k in ("values", "labels") if k in d})}
    try:
        return template.format(**d)
    except (KeyError, ValueError, IndexError):
        return finding["message"]


def duration_text(seconds: float, lang: str) -> str:
    seconds = max(0, int(round(seconds or 0)))
    if seconds < 60:
        return t("seconds", lang, s=seconds)
    if seconds < 3600:
        return t("minutes", lang, m=seconds // 60, s=seconds % 60)
    return t("hours", lang, h=seconds // 3600, m=seconds % 3600 // 60)


def plot_words(lang: str) -> dict:
    """Axis titles and legend names for studio.plots in `lang`."""
    return {key[len("plot_"):]: t(key, lang) for key in STRINGS if key.startswith("plot_")}


def _static(column: int) -> dict[str, str]:
    """The strings the browser translates itself: those without {placeholders}."""
    return {key: pair[column] for key, pair in STRINGS.items() if "{" not in pair[column]}


_ZH = _static(1)
I18N = gr.I18n(en=_static(0), **{"zh-CN": _ZH, "zh": _ZH})

# Gradio's frontend keeps its locale in its core module; this reaches that module and sets it,
# as the settings panel would. It runs in the page, before the handlers of the switch.
_SET_LOCALE = """
    const lang = (chosen || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
    const urls = performance.getEntriesByType("resource").map((e) => e.name)
        .concat([...document.querySelectorAll("link[href], script[src]")].map((e) => e.href || e.src));
    const core = urls.find((u) => /\\/assets\\/core-[^/?]+\\.js/.test(u));
    if (core) {
        try { const m = await import(core); if (m.changeLocale) m.changeLocale(lang); }
        catch (err) { console.warn("studio: could not switch the language", err); }
    }
"""

SWITCH_JS = """
async (chosen) => {
    try { localStorage.setItem("studio-language", chosen); } catch (err) {}
""" + _SET_LOCALE + """
    return chosen;
}
"""

# On page load: the language chosen before in this browser, else the browser's own.
LOAD_JS = """
async (...values) => {
    let chosen = null;
    try { chosen = localStorage.getItem("studio-language"); } catch (err) {}
    if (!chosen) {
        const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
        chosen = nav.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
    }
""" + _SET_LOCALE + """
    values[values.length - 1] = lang;
    return values;
}
"""

# The demo page's own strings only: a public page need not carry the studio's whole table.
_DEMO_KEYS = [key for key in STRINGS if key.startswith("demo_")]
DEMO_I18N = gr.I18n(en={k: v for k, v in _static(0).items() if k in _DEMO_KEYS},
                    **{code: {k: v for k, v in _ZH.items() if k in _DEMO_KEYS} for code in ("zh-CN", "zh")})

# The demo follows the browser's language (it has no switch); set on load into its hidden language box.
BROWSER_LANGUAGE_JS = """
() => {
    const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return nav.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}
"""
