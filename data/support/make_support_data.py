#!/usr/bin/env python3
"""Write the bundled libtextmodel demo dataset (customer-support messages).

Every sentence below was written by hand for this project. Running this
script regenerates train/valid/test in CSV and fastText format in the
directory that holds the script. Standard library only; deterministic.
"""

import csv
import os
import random

SEED = 20240517
PER_CLASS = {"train": 100, "valid": 25, "test": 25}
LABELS = ["billing", "delivery", "technical", "account"]

BILLING = r"""
I was charged twice for my subscription this month, please refund one of them.
Where can I download the invoice for my last order?
Why did my card get charged $49 when the plan says $39?
Refund still hasn't arrived after 10 days. What's going on?
Can I get a VAT invoice with my company name on it?
please cancel the renewal, i don't want to be charged again
The "discount" code didn't apply at checkout and I paid full price.
Thanks for the quick refund, really appreciated!
My bank statement shows a charge I don't recognise from you guys.
Is there a way to switch from monthly billing to yearly?
how long does a refund take to show up on a credit card
I need a copy of every invoice from 2023 for my accountant.
You charged me after I cancelled. I want my money back.
The price on the invoice is different from the price on your website.
Do you accept PayPal or only credit cards?
my payment keeps getting declined but the card works everywhere else
Could you send the receipt to my work email instead?
Got charged a "service fee" nobody mentioned. What is it for?
Refund received, thank you so much 🙏
Can I pay by bank transfer for the annual plan?
The invoice has the wrong billing address, can you reissue it?
I was promised a refund by your agent last week and still nothing.
Why am I being charged in dollars when I live in France?
Is the subscription price going up next month?
Charged 3 times for one order!!! Fix this please
Hi, can you split the payment into instalments?
I'd like a partial refund since half the items were missing from the bill.
The trial was supposed to be free but you charged my card.
Please update my payment method, the old card expired.
Where do I see my billing history?
Facturé deux fois, je veux un remboursement s'il vous plaît.
my invoice number is missing from the pdf, accountant needs it
Can you explain the extra €5 on my last invoice?
I want to dispute this charge, it's not mine.
Do you offer student discounts on the premium plan?
The refund went to an old card that is closed now. What happens?
Thanks, the corrected invoice is exactly what I needed.
why was tax added to my order? I'm tax exempt
Your checkout charged me but the order never confirmed.
Can I get a refund for the unused months of my plan?
Is there a cheaper plan for small teams?
Payment failed message but money left my account anyway.
I need the invoice to show "Acme Ltd, Finance Dept" please.
Refund refund refund. It's been three weeks.
Coupon SAVE20 says expired but the email said valid until Friday.
How do I get a credit note for the returned order?
the bill this month is double the usual, what happened
Can you waive the late payment fee? It was a bank error.
I'd like to downgrade so I'm charged less from next cycle.
Why do I have a pending charge of 1 dollar on my card?
Please stop charging my card, I closed the subscription in March.
Is the price including VAT or excluding?
Who do I talk to about a billing mistake on a business account?
I got an invoice for a product I never ordered.
Will I get charged if I cancel during the trial?
Great service, the refund was processed in a day 👍
Can I have separate invoices for each department?
My receipt shows the wrong currency.
refund status?? order 55812
You took money from my account twice, this is unacceptable.
Do annual plans get a discount compared to monthly?
How can I change the name on my invoices?
The gift card balance wasn't applied to my payment.
Is there any fee for paying with American Express?
Please confirm you received my bank transfer for invoice 2291.
I paid the invoice already but I keep getting reminder emails.
Can I get my money back if the product doesn't work for me?
The renewal price is way higher than what I signed up for.
Apple Pay charged me but the app says payment pending.
i was overcharged by 12 euros on the last bill
Your pricing page says "no hidden fees" yet here we are.
Could you refund the shipping cost since the order was late?
How do I add a PO number to the invoice?
Hola, me cobraron dos veces el mismo pedido.
Can I pay the remaining balance with a different card?
Thank you for sorting out the double charge so fast.
What payment methods do you accept for international orders?
My company needs invoices addressed to the head office, not to me.
The refund amount is less than what I paid. Why?
Please send me a quote before I pay.
I canceled within 14 days, so I expect a full refund.
My credit card was charged but I didn't get a receipt.
Why is there a currency conversion fee on my statement?
Can the invoice be in English instead of German?
I'm still waiting for the refund you confirmed on Monday.
Is it possible to pause billing for a couple of months?
The auto-renew charged me even though I turned it off.
Bill says premium plan, but I'm on basic. Please correct.
How much will I be charged if I add two more users?
Can I get the invoices emailed automatically every month?
The chargeback was resolved, thanks for your patience.
I don't understand the proration on my last invoice.
Price went from 9.99 to 14.99 without any notice!
Do you refund to the original payment method?
Just want to say thanks, the billing team was super helpful 😊
Can I use two discount codes on one order?
My payment is stuck on "processing" for two days.
Where is the refund for order #4471? You said 5 business days.
Please remove my card details from your system after this payment.
Is sales tax charged for customers in Canada?
Need an itemized invoice, not just the total.
I got charged for an upgrade I didn't ask for.
Can I get a refund in store credit instead?
The invoice total doesn't match my bank charge, off by a few cents.
Why was I billed for 12 seats when we only use 8?
i want to cancel and get refunded asap
Is the yearly plan billed all at once or monthly?
You sent the invoice to the wrong company, please fix.
Can I receive a paper invoice by post?
Why does the receipt say "pending authorization"?
Double charged AGAIN. This is the second month in a row.
Do I need to pay customs fees or are they included in the price?
Will the refund include the shipping fee?
How do I update the billing email on file?
Thank you for the refund and the kind note.
Someone used my card to pay on your site, please refund and block it.
I was told the upgrade would be free, but it's on my invoice.
Can I get a discount for paying two years upfront?
The payment page crashed but I was still charged.
Monthly fee is taken on the 1st, can I move it to the 15th?
Where can I find the price breakdown for my order?
Please refund the difference, the item went on sale a day later.
Invoice PDF is blank, can you resend it?
how do i get reimbursed for the damaged item
Your system billed me for last year's rate instead of the promo.
Can nonprofit organizations get reduced pricing?
I need proof of payment for my visa application, can you help?
Money was refunded but the invoice still shows unpaid.
Charged a cancellation fee that wasn't in the terms.
Qué métodos de pago aceptan? Solo tengo tarjeta de débito.
can u send me invoice for order 8812 thx
I'd like to know why my discount disappeared after renewal.
Your billing is a mess, three invoices for one purchase.
Can I be billed to my company's card instead of mine?
The annual charge hit my account early, it's due next week.
I got refunded twice by mistake, how do I return the extra?
Do prices include shipping or is that charged separately?
Received the refund today, all good now, cheers!
Will I be charged for the days left in the current billing period?
Can you reverse the charge from yesterday? It was an accident.
Why is my bill higher than my colleague's on the same plan?
I need invoices with the tax ID number on them.
The payment went through but my plan still shows "free".
Why did the price change between my cart and the final charge?
Can I get an invoice without my home address on it?
Why was my refund split into two smaller payments?
Can you send a receipt that shows the discount I got?
My card was charged in advance for next year, I didn't agree to that.
Is the invoice for the family plan sent to each member or just me?
The billing page still lists a card I removed months ago.
Thx for the price adjustment, much appreciated!
Pls explain why the late fee is 15% of the invoice, that's a lot.
Do I still get charged while my subscription is paused?
Can I get a refund, the seller charged me for an item out of stock?
"""

DELIVERY = r"""
Where is my package? Tracking hasn't updated in 4 days.
The courier left my parcel at the wrong address.
My order says delivered but nothing is at my door.
How long does shipping to Canada usually take?
Package arrived damaged, the box was completely crushed.
can i change the delivery address? i'm moving next week
Tracking number doesn't work on the courier's website.
Thanks, the parcel arrived a day early!
Do you ship to Iceland?
The delivery driver never rang the bell, just left a "missed delivery" note.
My order is stuck "in transit" since last Monday.
Is express shipping available for this item?
I received someone else's package, what should I do?
Only 2 of the 3 items arrived, is the rest coming separately?
When will my order be dispatched?
The courier says the address is incomplete, but it's correct.
Can I pick up my order from a local store instead?
Delivery was supposed to be yesterday, still nothing 😡
The tracking page says "returned to sender", why?
Please leave the package with my neighbour at number 12.
My parcel is stuck at customs, how do I get it released?
Can you deliver on Saturday? I work weekdays.
Package came open and one item is missing.
Ordered 3 weeks ago and haven't received anything.
Where do I find my tracking number?
The courier was very rude and threw the box over the fence.
Livraison prévue lundi, toujours rien reçu.
my package went to the depot instead of my house
Can I reschedule the delivery for next week?
Do you offer free shipping over a certain amount?
The box was soaked from the rain, the contents are ruined.
Thanks to the courier, super friendly and on time!
Tracking shows my parcel in another country??
How do I return an item that arrived broken?
I need the order before Christmas, will it make it?
Is it possible to ship to a PO box?
Wrong item delivered, I ordered the blue one not the red.
My package was marked delivered at 3am, definitely not true.
Can you send it with a different courier? The last one lost it.
What time window will the driver come?
The parcel locker code you sent me doesn't open the locker.
Shipping estimate said 2 days, it's been 8.
How do I track an international shipment?
Delivered to the reception of my building but they don't have it.
Please don't use that courier again, they always lose my packages.
Can I add an item to my order before it ships?
The driver said "no one home" but I was literally waiting at the door.
My order was split into two packages, only one has tracking.
Where do I send the return package?
Will I need to sign for the delivery?
Still waiting for a replacement for the damaged package.
is shipping to Northern Ireland possible
The tracking link in the email is broken.
Package delivered, everything in perfect condition. Thanks!
Can the courier leave it in the back garden if I'm out?
Order shipped but tracking hasn't moved since it left the warehouse.
How much is shipping to Australia?
The parcel is too big for my letterbox, can you hold it at the post office?
I got a notice to pick up my package but the depot is closed.
My delivery was cancelled without any explanation.
Could you ship the order to my office instead of home?
The return label you sent is for the wrong country.
Why does tracking say "exception"?
Ich warte seit zwei Wochen auf mein Paket.
the courier damaged my gate while delivering, who do I contact
Can I get a delivery confirmation with photo?
It's been a month, is my order lost?
Do you deliver to rural areas? My last order never came.
Please resend my order, the courier lost it.
The package was left in the rain on the doorstep.
When will the backordered item ship?
Does express delivery work on bank holidays?
Hey, tracking says out for delivery since 7am, any ETA?
I want to change from standard to next-day delivery.
Received an empty box. Literally empty.
The label on my parcel has my name spelled wrong, will it still arrive?
Thank you, the replacement arrived quickly and works perfectly.
Why do I have to pay import duties on delivery?
Can you hold my parcel until I'm back from holiday?
The courier keeps saying the address doesn't exist.
How do I arrange a pickup for my return?
My neighbour got my package and won't give it back 🙄
Shipped to my old address even though I updated it.
Is there tracking for standard shipping or only express?
The delivery van blocked my driveway for an hour. Not happy.
Do you ship fragile items with extra packaging?
Half my order arrived today, the rest says "awaiting stock".
I'd like to know which courier is handling my order.
The package is sitting at the sorting center for a week.
Can I collect from the warehouse myself?
My parcel arrived but the seal was broken.
Please confirm my order has been dispatched.
Tracking numbers for both shipments would be great, thanks.
Delivery attempted while I was home, nobody knocked.
How long do returns take to reach your warehouse?
Order arrived in 2 days, faster than expected 🚚
Why was my package sent back to the warehouse?
Can you deliver to a parcel shop near my work?
My package shows delivered to a city I've never lived in.
the box was crushed and the glass inside shattered
Is international shipping tracked door to door?
Any updates on my delivery? It's a birthday gift for tomorrow.
Can you upgrade my shipping to express? I'll pay the difference.
Courier says I refused the package, I never did.
What happens if I miss the delivery twice?
Please ship the remaining items together, not one by one.
The parcel was delivered to the wrong flat in my building.
Will my order ship today if I order before noon?
Tracking stopped updating after it reached the local depot.
The delivery note lists items that weren't in the box.
Can I give the driver special instructions?
I got two of the same item and none of the other.
Does your courier deliver on Sundays?
My package has been "processing" in the warehouse for days.
The return was picked up last week, did you receive it?
The packaging was great, nothing broke, thanks a lot!
why is shipping so slow lately
Order delivered to my old office, can you redirect it?
Can I track my order without an account?
A package with my name arrived but I didn't order anything.
I'm abroad, can someone else sign for the parcel?
The courier's phone number on tracking doesn't answer.
Is there a delivery fee for orders under 20 euros?
My parcel came with a big hole in the side.
Estimated delivery keeps moving back every day.
Where's my stuff?? Order 99031
Could you send the replacement by express? The first one arrived broken.
Delivery guy left it in the bin 🗑️ seriously?
Do you deliver to hotels? I'm staying there for a month.
The pallet delivery needs a forklift, can the courier bring one?
Entrega atrasada, el paquete no llega.
I need to return the package but lost the return label.
Can you combine my two orders into one shipment?
The item was delivered but it's the wrong size.
How will I know when my order ships?
Tracking said delivered to locker, but the locker is empty.
Great job, the courier called before arriving. Very helpful.
My parcel is on hold because of an address issue, please fix it.
Is the shipping time the same for all colors?
Who is responsible if the courier breaks the item?
Still no sign of my delivery, this is the third time I ask.
my packge is late again, 2nd time this month
The courier asked for cash on delivery but I already paid online.
Parcel tracking says "delivered to safe place", where is that?
Can you tell me when the courier will arrive? I need to be home.
The parcel was delivered, but the box smelled of smoke.
Tracking updated to "held at depot", what do I do now?
Ma commande est bloquée à l'entrepôt depuis une semaine.
Is next-day delivery available to Scotland?
Package was left at the door in full sun and the chocolate melted.
Can the delivery be made after 6pm? I work late.
The shipment was returned because of an "insufficient address".
Driver delivered it to number 21, I live at 12.
Can I see where my package is on a map?
"""

TECHNICAL = r"""
The app crashes every time I open the camera screen.
I can't upload files bigger than 10 MB, it just fails.
Getting "Error 500" when I try to save my settings.
The website is super slow today, pages take a minute to load.
After the last update the app won't start on my Android phone.
Sync between desktop and mobile stopped working.
how do i connect the device to wifi? the setup keeps failing
Notifications don't show up on iOS 17.
The export to CSV button does nothing.
Thanks, the bug fix in version 2.3 solved my problem!
Dark mode makes some text unreadable.
The app freezes when I scroll through long lists.
API returns 401 even with a valid key.
Is there a Linux version of the desktop app?
My printer isn't detected by the software anymore.
The search function returns no results even for exact names.
Keeps crashing on startup, already reinstalled twice.
Video playback stutters on Chrome but works on Firefox.
Bluetooth pairing with the headphones fails every time.
The page shows a blank white screen after I click "Submit".
Firmware update stuck at 45% for an hour.
Can you add an option to disable autoplay?
The app drains my battery really fast since the update.
Images don't load in the gallery, just grey boxes.
L'application plante au démarrage depuis la mise à jour.
Getting a timeout error when connecting to the server.
The widget on my home screen stopped refreshing.
Which browsers are officially supported?
the app keeps logging me out every 5 minutes
Calendar integration with Outlook is broken.
Your installer says my Windows version is not supported.
The webhook isn't firing when an order is created.
Text is cut off on small screens.
Why does the app need location permission?
Uploaded photos come out rotated sideways.
The device makes a beeping sound and won't turn on.
I found a bug: the date picker shows the wrong month.
The desktop app uses 100% CPU doing nothing.
Voice commands aren't recognised anymore.
The update broke the import feature, please roll it back.
Is there an offline mode? The app is useless without signal.
My smart plug keeps disconnecting from the network.
The checkout page won't load on Safari.
Error code E-17 on the display, what does it mean?
Reports are showing yesterday's data, not today's.
Copy and paste doesn't work in the editor.
Does the app work on older iPads?
The app is stuck on the loading spinner forever.
Keyboard shortcuts stopped working after the update.
Crash log attached, happens when I rotate the phone.
Can't scan QR codes with the in-app scanner.
The PDF export messes up the formatting.
Hi, is there a known outage right now? Nothing loads.
The screen flickers when I open the settings menu.
I'm getting "SSL certificate invalid" warnings on your site.
The app crashed and I lost all my unsaved work 😭
Thank you for the patch, everything runs smooth now.
Audio is out of sync with the video in the player.
Where can I find the API documentation?
The sensor shows wrong temperature readings.
Drag and drop doesn't work in Firefox.
Tried clearing cache and cookies, still getting the error.
The app says "no internet connection" but my wifi is fine.
Can I run the software on a Mac with an M2 chip?
Push notifications arrive hours late.
The mobile app crashes when I try to attach a file.
Some buttons are missing in the new version.
The charts are empty even though there's data.
Installation fails with "missing DLL" message.
Das Programm stürzt beim Speichern ab.
my robot vacuum won't connect to the app anymore
Page keeps refreshing by itself every few seconds.
The translation in the Spanish version is broken, half is in English.
Is there a way to roll back to the previous version of the app?
Tablet app looks stretched in landscape mode.
I keep getting a 404 when clicking links in your help center.
The integration with Slack stopped posting messages.
App update failed to install from the Play Store.
The device overheats after 10 minutes of use.
Search is so slow it's unusable, 30 seconds per query.
The app won't let me upload a profile picture, error every time.
Zoom doesn't work on the map view.
Rate limit errors even though we're way under the limit.
The app opens then closes immediately on my Pixel.
Fonts look blurry on my 4K monitor.
I think there's a memory leak, the app gets slower over time.
The touchscreen doesn't respond in the bottom corner.
Data from last week disappeared from the dashboard.
Does the software support two monitors?
Cant get the app to work on my new phone, just crashes
Your site is down again?? 502 bad gateway.
The form doesn't accept my postcode format, says invalid.
Router reset didn't help, the device is still offline.
Emojis show up as question marks in the messages 🤔
The app asks me to update but there is no update in the store.
Where do I report a bug?
The installer hangs at "configuring components".
My backup won't restore, it says the file is corrupt.
Graphs render incorrectly when I zoom the browser to 150%.
The app crashed during the payment step.
Thanks for the workaround, the crash is gone for now.
Sound doesn't work through the app on my Bluetooth speaker.
The filter dropdown resets every time I change page.
Is there a command line tool for bulk uploads?
Mobile app shows a different total than the website.
Auto-save is not working, I've lost changes twice.
The scanner won't read barcodes in low light.
Time zone in the app is wrong, everything is one hour off.
Software keeps asking to restart after every update.
App takes ages to load on 4G.
The chat widget covers the send button on mobile.
The e-reader freezes when I open a PDF.
The app doesn't work with screen readers, accessibility is poor.
My watch won't sync step data with the phone app.
The batch job failed overnight with an out of memory error.
I get a captcha loop and can't get past it.
Video calls drop after exactly 10 minutes.
Is the app compatible with Android 9?
The progress bar says done but the file isn't there.
The link preview is broken when I share from the app.
help, the app crashes whenever I open notifications
The firmware download link returns an error.
Settings don't save, they revert after restart.
My laptop can't find the device over USB.
Does the API support pagination? The docs don't say.
Great update, the app feels much faster now 👏
The camera feed is black in the app, but works in other apps.
Why is the app 2 GB? My phone is full.
The import tool chokes on files with accented names like "résumé.pdf".
The login page throws a JavaScript error in the console.
Table columns overlap when the window is small.
Scheduled emails aren't being sent by the system.
Light on the device blinks red, what does it mean?
The app crashes on iOS when I switch to another app and come back.
Is there a status page where I can check for outages?
The spell checker underlines every word as wrong.
Uploading from Google Drive fails silently.
The game lags badly since patch 1.4.
the app is so buggy since the lastest update, constant crashs
Can I use the API from Python, or only JavaScript?
My device shows "update failed, please retry" every night.
The web app logs errors when I paste long text, then freezes.
The app keeps showing "something went wrong" with no details.
Is there a keyboard shortcut to undo in the mobile editor?
My device reboots by itself a few times a day.
Wi-Fi setup screen says "device not found" every time.
The desktop app crashes when I open a file with emoji in the name 😬
Is the API down? All requests time out since 9am.
Screen goes black for a second when I switch tabs in the app.
The search bar ignores accented letters, so "café" finds nothing.
The new update removed the export option, where did it go?
Pictures I upload lose quality, they look really blurry.
Syncing photos takes forever and then fails halfway.
The app version on my tablet is older than on my phone, how do I update?
"""

ACCOUNT = r"""
I forgot my password and the reset email never arrives.
How do I change the email address on my account?
Please delete my account and all my data.
I can't log in, it says my account is locked.
Someone else logged into my account from another country!
How do I enable two-factor authentication?
my username is taken by an old account of mine, can you merge them?
The password reset link says it has expired.
Can I have two accounts with the same email?
I never received the verification email after signing up.
How do I change my username?
Thanks for unlocking my account so quickly!
I lost my phone and can't get the 2FA code anymore.
Please update my phone number on my profile.
Can I transfer my account to my business partner?
Login says "invalid credentials" but I'm sure the password is right.
How do I add a team member to our account?
Remove my old email from the account please.
I want to download all my personal data (GDPR request).
My account was suspended without any explanation.
Is it possible to log in with Google instead of a password?
Changed my password but the old one still works??
I signed up with the wrong email, how can I fix it?
How do I deactivate my account temporarily?
J'ai oublié mon mot de passe et je n'ai plus accès à mon email.
i cant login anymore after changing my email
Can you reactivate my account? I closed it by mistake.
The profile page shows someone else's name.
How do I set up a recovery email?
I think my account got hacked, the password was changed.
Can I change the account owner to another admin?
Where do I manage my privacy settings?
My account shows as "pending verification" for a week.
Can I log in on multiple devices at once?
How do I unsubscribe from marketing emails?
My email confirmation link doesn't work.
Please close my account, I don't use the service anymore.
Can I change my date of birth? I entered it wrong.
Login with Apple ID creates a new account instead of using my existing one.
I want to remove a user who left the company.
How do I reset my security questions?
Your system says my email is already registered but I never signed up.
Locked out after too many attempts, how long do I wait?
I'd like to update my display name to my full name.
Account verification asks for an ID, why?
Can I merge my personal and work accounts?
I can't find where to change my password in the settings.
Thanks, I can log in again 😊
Someone is using my email to create accounts on your site.
How do I switch my account from personal to business?
My profile picture keeps reverting to the default one.
The 2FA code from the SMS is always rejected.
Please change the email on my account to my new address.
How can I recover an account if I no longer have the email?
Mi cuenta está bloqueada, no puedo entrar.
Can my kids have their own accounts under mine?
i'd like to change my login email, the old one is from my uni
How do I sign out of all devices?
My account got deleted, can it be restored?
Password requirements are too strict, can't create an account.
The account settings page says I don't have permission.
How do I give my assistant access to my account?
Is there a way to see recent login activity?
Got an email saying my password was changed, it wasn't me!
Can I change the language on my account?
Verification code never arrives by SMS.
My colleague's invite link says "invalid or expired".
I want to link my social media to my profile.
How do I change my security settings to require 2FA for the whole team?
Please unlink my Facebook login from the account.
Admin rights were removed from my account by accident.
How do I update my address on my profile?
I'm getting emails for an account that isn't mine.
Account locked again, third time this week. Why?
Can I rename our organization in the account?
Where can I find my customer ID?
The sign up form says my email is invalid but it's correct.
Thank you for helping me recover my account, you're a lifesaver.
I'd like to close my account but keep my order history.
How do I change the password for a shared account?
Can't log in with my phone number, only email works.
Please verify my identity and unlock the account.
My account was merged with someone else's by mistake!
Do accounts expire if I don't use them?
I don't remember which email I used to sign up.
How do I stop other people from seeing my profile?
Changing my email requires a code sent to the old email I no longer have.
Can I create a guest account for my parents?
My login works on the website but not on the app.
Is my account data deleted when I cancel?
Please remove my phone number from my account.
Password reset keeps sending me to the login page in a loop.
How do I transfer ownership of the workspace before I leave?
I accidentally created two accounts, please delete the newer one.
Why do I have to log in again every day?
Cómo cambio mi contraseña?
my account says "email not verified" but I clicked the link
Where do I edit my notification preferences?
Can you tell me which email is linked to my account?
I want to change my username, the current one has a typo.
Logged in and saw someone else's orders! Privacy issue.
How do I add a second admin to my account?
The account recovery form never gets a response.
Are passwords stored securely?
Please reset my account, I want to start fresh.
Can I log in without the authenticator app?
How do I update my name after getting married?
Thanks for resetting my password, works perfectly now.
I'm locked out because my company email was deactivated.
Can I hide my email address from other users?
Session expires too fast, I have to log in constantly.
How do I remove an old device from my trusted devices?
Where do I change my account password on mobile?
Why was my account flagged for suspicious activity?
Delete my data please, I am exercising my right to be forgotten.
My invite to the team account never arrived.
Can I use a nickname instead of my real name on my profile?
Login page says "account does not exist" but I've used it for years.
How do I change the primary email on a family account?
Please send a new verification link, the old one expired.
Who can see my profile information?
My account is showing the wrong country and I can't change it.
The SSO login redirects me back to the sign-in page.
Can I change my account type from admin to regular user?
how to recover acount, forgot everything
I lost access to my authenticator app after a phone reset.
I'd like to update the contact email for our company account.
Please remove my account from the team workspace.
Can I reserve a username before signing up?
My profile shows "Jos?" instead of "José", can you fix my name?
Thanks for sorting out my login issue 👍
My account email was changed without my permission.
Is there an age limit for creating an account?
Is it safe to share my account with my partner?
I need to change my security phone number, the old one is disconnected.
Where is the option to delete my account? I can't find it.
The "remember me" box doesn't keep me logged in.
pasword reset email went to spam, is that normal?
Can a former employee still log in to our account?
I changed my email but notifications still go to the old address.
How do I verify my account without a phone?
I'd like to change the email on my account, I've lost access to the old one.
Why does my account page say I'm not a member anymore?
Can you confirm my account was deleted as I requested?
My password manager filled the wrong password and now I'm locked out.
Can I add a backup phone number for 2FA?
Hi, my account shows another person's email as the recovery email.
I get "user not found" when I try to reset my password.
Can I switch the account email without losing my history?
My security key isn't accepted at login anymore.
The profile settings won't let me change my surname with an apostrophe, like O'Brien.
Is there a way to log in as a guest?
I want my account data exported to a file, please.
"""

SOURCES = {
    "billing": BILLING,
    "delivery": DELIVERY,
    "technical": TECHNICAL,
    "account": ACCOUNT,
}


def parse(block):
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    need = sum(PER_CLASS.values())
    rng = random.Random(SEED)
    seen = set()
    splits = {name: [] for name in PER_CLASS}

    for label in LABELS:
        texts = parse(SOURCES[label])
        for t in texts:
            n = len(t.split())
            assert 3 <= n <= 25, (label, n, t)
            key = t.casefold()
            assert key not in seen, ("duplicate", t)
            seen.add(key)
        assert len(texts) >= need, (label, len(texts), need)
        rng.shuffle(texts)
        texts = texts[:need]
        start = 0
        for name, k in PER_CLASS.items():
            splits[name].extend((label, t) for t in texts[start:start + k])
            start += k

    for name, rows in splits.items():
        rng.shuffle(rows)
        with open(os.path.join(here, name + ".csv"), "w",
                  encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["label", "text"])
            w.writerows(rows)
        with open(os.path.join(here, name + ".ft.txt"), "w",
                  encoding="utf-8", newline="\n") as f:
            for label, text in rows:
                flat = " ".join(text.replace("\r", " ").replace("\n", " ").split())
                f.write("__label__%s %s\n" % (label, flat))
        print("%s: %d rows" % (name, len(rows)))


if __name__ == "__main__":
    main()
